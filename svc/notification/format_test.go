package notification

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLocaleChain(t *testing.T) {
	t.Parallel()
	tests := map[string][]string{
		"":           {"en"},
		"en":         {"en"},
		"en-GB":      {"en-gb", "en"},
		"fr-CA":      {"fr-ca", "fr", "en"},
		"zh_Hant_TW": {"zh-hant-tw", "zh-hant", "zh", "en"},
	}
	for in, want := range tests {
		if diff := cmp.Diff(want, localeChain(in)); diff != "" {
			t.Errorf("localeChain(%q) (-want +got):\n%s", in, diff)
		}
	}
}

// Every built-in template parses and renders with its kind's sample data.
func TestBuiltinTemplatesRender(t *testing.T) {
	t.Parallel()
	for _, k := range allKinds {
		src, err := builtin(k)
		if err != nil {
			t.Fatal(err)
		}
		r, err := check(src)
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		if r.Subject == "" || r.Text == "" || r.HTML == "" || r.SMS == "" {
			t.Errorf("%s renders an empty part: %+v", k, r)
		}
	}
}
