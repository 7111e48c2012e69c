package check_test

import (
	"strings"
	"testing"

	"github.com/gotrace/gotrace/lang/check"
	"github.com/gotrace/gotrace/lang/types"
)

// TestKnownMaps checks Config.KnownMaps, the maps an interactive session
// keeps between runs: a map the program uses but never assigns takes the
// known map's types; one the program assigns keeps its own, whatever the
// known map was.
func TestKnownMaps(t *testing.T) {
	count := &types.Type{Kind: types.Agg, Agg: "count"}
	known := map[string]check.KnownMap{
		"@n":   {Value: count},
		"@by":  {Key: types.NewString(16), Value: types.Int64},
		"@new": {Value: types.NewString(8)},
	}
	cases := []struct {
		name, text string
		want       map[string]string // map name -> "key value"
		err        string
	}{
		{"print a known aggregation", "BEGIN { print(@n); exit(); }", map[string]string{"@n": "<nil> count()"}, ""},
		{"read a keyed map", `BEGIN { printf("%d\n", @by["a"]); }`, map[string]string{"@by": "string[16] int64"}, ""},
		{"clear and delete", `BEGIN { clear(@n); delete(@by["x"]); }`, map[string]string{"@n": "<nil> count()", "@by": "string[16] int64"}, ""},
		{"values flow into a new map", "BEGIN { @copy = @by[\"a\"]; }", map[string]string{"@by": "string[16] int64", "@copy": "<nil> int64"}, ""},
		{"the program's own type wins", "BEGIN { @new = 1; print(@new); }", map[string]string{"@new": "<nil> int64"}, ""},
		{"the program's own aggregation wins", "BEGIN { @n = sum(2); }", map[string]string{"@n": "<nil> sum()"}, ""},
		{"unknown maps are still errors", "BEGIN { print(@other); }", nil, "@other is never assigned"},
		{"keys must agree with the known map", "BEGIN { print(@by[1]); }", nil, "@by's key is"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, prog := parse(t, "test.gt", c.text)
			conf := testConfig(t)
			conf.KnownMaps = known
			info, err := check.Check(src, prog, conf)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, m := range info.Maps {
				got[m.Name] = m.Key.String() + " " + m.Value.String()
			}
			if len(got) != len(c.want) {
				t.Errorf("maps %v, want %v", got, c.want)
			}
			for name, want := range c.want {
				if got[name] != want {
					t.Errorf("%s is %q, want %q", name, got[name], want)
				}
			}
		})
	}
}
