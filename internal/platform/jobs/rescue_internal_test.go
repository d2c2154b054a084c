package jobs

import (
	"testing"
	"time"
)

// A job whose process died mid-run is run again minutes later, not after
// River's default hour (the chaos suite's kill -9 found orders' payment
// outcomes and confirmation emails waiting that long).
func TestRescueAfterDefault(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cfg  Config
		want time.Duration
	}{
		{Config{}, 2 * time.Minute},
		{Config{JobTimeout: 10 * time.Second}, 20 * time.Second},
		{Config{JobTimeout: time.Minute, RescueStuckJobsAfter: 5 * time.Minute}, 5 * time.Minute},
		{Config{JobTimeout: -1}, 0}, // no timeout: River's own default
	}
	for _, tc := range cases {
		if got := rescueAfter(tc.cfg); got != tc.want {
			t.Errorf("rescueAfter(JobTimeout %s, RescueStuckJobsAfter %s) = %s, want %s",
				tc.cfg.JobTimeout, tc.cfg.RescueStuckJobsAfter, got, tc.want)
		}
	}
}
