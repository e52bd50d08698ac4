package buildinfo

import (
	"runtime"
	"testing"
)

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		version, commit         string
		wantVersion, wantCommit string
	}{
		// A test binary has no module version and no VCS stamp.
		{name: "nothing passed", wantVersion: "(devel)", wantCommit: "unknown"},
		{name: "passed by the linker", version: "v1.2.0-3-gabc1234-dirty", commit: "abc1234def",
			wantVersion: "v1.2.0-3-gabc1234-dirty", wantCommit: "abc1234def"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(v, c string) { version, commit = v, c }(version, commit)
			version, commit = tc.version, tc.commit
			got := Read()
			want := Info{Version: tc.wantVersion, Commit: tc.wantCommit, GoVersion: runtime.Version()}
			if got != want {
				t.Errorf("Read() = %+v, want %+v", got, want)
			}
			if s, w := got.String(), tc.wantVersion+" (commit "+tc.wantCommit+", "+runtime.Version()+")"; s != w {
				t.Errorf("String() = %q, want %q", s, w)
			}
		})
	}
}
