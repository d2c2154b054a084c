package jobs

import (
	"testing"
	"time"
)

func TestBackoffDoublesUpToMax(t *testing.T) {
	t.Parallel()
	b := Backoff{Base: time.Second, Max: 5 * time.Minute}
	for _, tt := range []struct {
		attempt int
		want    time.Duration
	}{
		{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second},
		{9, 256 * time.Second}, {10, 5 * time.Minute}, {25, 5 * time.Minute}, {1000, 5 * time.Minute},
	} {
		if got := b.wait(tt.attempt); got != tt.want {
			t.Errorf("wait after attempt %d = %s, want %s", tt.attempt, got, tt.want)
		}
	}
	// A base whose doublings overflow int64 still waits Max.
	if got := (Backoff{Base: 100 * time.Hour, Max: time.Hour}).wait(40); got != time.Hour {
		t.Errorf("overflowing wait = %s, want the max", got)
	}
}
