package engine

import (
	"encoding/json"
	"testing"
)

// TestRecordStringIsEncodingJSON: the hand-written encoding of a record is
// what encoding/json writes for it, so that records written before and
// after it was hand-written compare equal.
func TestRecordStringIsEncodingJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  record
	}{
		{"no mutations", record{}},
		{"empty mutations", record{Mutations: []recordedMutation{}}},
		{"name and hash only", record{Mutations: []recordedMutation{{Name: "logging", Hash: "0123456789abcdef"}}}},
		{"every field", record{Mutations: []recordedMutation{{
			Name: "keymaker", Hash: "d11de59e9e1b8b5b",
			InitContainers: []string{"init-fqdn", "krb5"}, Containers: []string{"refresher"},
			Volumes: []string{"keytabs"}, ImagePullSecrets: []string{"regcred"},
			Mounts: map[string][]string{"z-app": {"/etc/keytabs"}, "app": {"/a", "/b"}, "m": nil},
		}, {Name: "vault", Hash: "x", Containers: []string{}}}}},
		{"characters JSON escapes", record{Mutations: []recordedMutation{{
			Name: "a\"b\\c<d>&e\u2028\x01", Hash: "\xff",
			Mounts: map[string][]string{"<": {"\n"}, "é": {"日本"}},
		}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(&tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.rec.String(); got != string(want) {
				t.Errorf("String() = %s\nencoding/json writes %s", got, want)
			}
		})
	}
}
