package format

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// goldenCase rebuilds in Go what the script testdata/format/NAME.bt did and
// expects Style017 to reproduce NAME.out, bpftrace 0.17's stdout.
type goldenCase struct {
	name   string
	probes int // number of probes in the script
	steps  []step
}

// Parameters of the lhist() calls in the goldens.
func p0_100_10() LhistParams  { return LhistParams{Min: 0, Max: 100, Step: 10} }
func p0_10_1() LhistParams    { return LhistParams{Min: 0, Max: 10, Step: 1} }
func p10_50_5() LhistParams   { return LhistParams{Min: 10, Max: 50, Step: 5} }
func p0_10K_1K() LhistParams  { return LhistParams{Min: 0, Max: 10240, Step: 1024} }
func p0_4M_1M() LhistParams   { return LhistParams{Min: 0, Max: 4194304, Step: 1048576} }
func p0_1G_100M() LhistParams { return LhistParams{Min: 0, Max: 1000000000, Step: 100000000} }
func p0_25_10() LhistParams   { return LhistParams{Min: 0, Max: 25, Step: 10} }

func goldenCases() []goldenCase {
	one := func(name string, maps ...*Map) goldenCase {
		return goldenCase{name: name, probes: 1, steps: []step{exit(maps...)}}
	}
	count := func(name string, entries ...Entry) *Map { return unsigned(mk(name, Scalar, entries...)) }
	h := func(name string, vals ...int64) *Map { return mk(name, Hist, he(nil, vals...)) }
	return []goldenCase{
		{name: "framing_printf", probes: 1, steps: []step{text("hi\n"), exit()}},
		one("framing_count", count("@a", ie(nil, 1))),
		{name: "framing_end", probes: 2, steps: []step{text("end\n"), exit(count("@a", ie(nil, 1)))}},
		one("order_names",
			mk("@zz", Scalar, ie(nil, 1)), mk("@a", Scalar, ie(nil, 2)), mk("@", Scalar, ie(nil, 3)),
			mk("@A", Scalar, ie(nil, 4)), mk("@a_b", Scalar, ie(nil, 5)), mk("@ab", Scalar, ie(nil, 6)),
			mk("@a9", Scalar, ie(nil, 7))),
		one("mixed",
			count("@z", ie(nil, 1)),
			count("@a", ie(k(1), 1), ie(k(2), 2)),
			h("@m", 3),
			mk("@b", Scalar, ie(nil, 5)),
			mk("@s", String, se(k("x"), "hello")),
			mk("@t", Tuple, te(k(1, "a"), 1, "b")),
			mk("@st", Stats, ae(nil, 10)),
			mk("@av", Avg, ae(nil, 3)),
			lh("@l", p0_100_10(), le(p0_100_10(), nil, 5)),
			mk("@mh", Hist, he(k(1), 1), he(k(2), 2, 2))),
		one("hist_one", h("@h", 5)),
		one("hist_zero", h("@h", 0)),
		one("hist_one_value", h("@h", 1)),
		one("hist_neg", h("@h", -1, -100)),
		one("hist_brief", h("@h", 5, 0, -1, 1500)),
		one("hist_spread", h("@h", 1, 2, 3, 3, 7, 7, 7, 100, 1000, 1024, 1048576, 1073741823)),
		one("hist_bars", h("@h", concat(ints(2), repeat(4, 3), repeat(8, 7))...)),
		// 15/26*52 is 30 in single precision and 29.999... in double: bpftrace
		// computes the bar in float, and so must we.
		one("hist_float", h("@h", concat(repeat(1, 15), repeat(2, 26))...), h("@g", concat(repeat(4, 45), repeat(8, 78))...)),
		one("hist_keys", mk("@h", Hist, he(k(1), 1), he(k(2), 10, 10), he(k(3), 3, 3, 3), he(k(0), 100, 100, 100, 100))),
		one("hist_strkeys", mk("@h", Hist, he(k("b"), 1), he(k("a"), 10, 10), he(k("c"), 5))),
		one("hist_keys_sort", mk("@h", Hist, he(k(5), 1, 1, 1), he(k(1), 100, 200), he(k(9), 3))),
		one("hist_multi", h("@a", 1), mk("@b", Hist, he(k(1), 2)), count("@c", ie(nil, 1))),
		one("lhist_basic", lh("@l", p0_100_10(), le(p0_100_10(), nil, 5, 15, 15, 55))),
		one("lhist_below", lh("@l", p0_100_10(), le(p0_100_10(), nil, -5, 25))),
		one("lhist_above", lh("@l", p0_100_10(), le(p0_100_10(), nil, 100, 150, 75))),
		one("lhist_both", lh("@l", p0_100_10(), le(p0_100_10(), nil, -1, 1000))),
		one("lhist_only_above", lh("@l", p0_100_10(), le(p0_100_10(), nil, 1000))),
		one("lhist_only_below", lh("@l", p0_100_10(), le(p0_100_10(), nil, -1000))),
		one("lhist_step1", lh("@l", p0_10_1(), le(p0_10_1(), nil, 0, 3, 3, 9, 10))),
		one("lhist_min", lh("@l", p10_50_5(), le(p10_50_5(), nil, 15, 48, 5))),
		one("lhist_k", lh("@l", p0_10K_1K(), le(p0_10K_1K(), nil, 1500, 5000, 20000))),
		one("lhist_m", lh("@l", p0_4M_1M(), le(p0_4M_1M(), nil, 1500000, 3000000))),
		one("lhist_wide", lh("@l", p0_1G_100M(), le(p0_1G_100M(), nil, 150000000, 950000000, 2000000000))),
		one("lhist_uneven", lh("@l", p0_25_10(), le(p0_25_10(), nil, 5, 22, 26))),
		one("lhist_keys", lh("@l", p0_100_10(), le(p0_100_10(), k("x"), 5), le(p0_100_10(), k("y"), 50, 50))),
		one("count_keys", count("@", ie(k(1), 1), ie(k(2), 2), ie(k(-3), 3))),
		one("sum_neg", mk("@", Scalar, ie(k(1), -5), ie(k(2), 10), ie(k(3), -100), ie(k(4), 0))),
		one("str_keys", count("@", ie(k("nginx"), 3), ie(k("a b"), 1), ie(k(""), 2), ie(k("x,y"), 4))),
		one("str_key_special", count("@", ie(k("tab\there"), 1), ie(k("nl\nx"), 2))),
		one("tuple_keys", count("@", ie(k(1, "a"), 1), ie(k(2, "b"), 2), ie(k(-1, "c"), 3))),
		one("tuple_vals",
			mk("@", Tuple, te(k(1), 1, "a"), te(k(2), -2, "b")),
			mk("@x", Tuple, te(nil, 3, "c", 4))),
		one("str_vals",
			mk("@", String, se(k("k2"), "zeta"), se(k("k1"), "alpha"), se(k("k3"), "mid")),
			mk("@s", String, se(nil, "scalar"))),
		one("int_vals_sort", mk("@", Scalar, ie(k(1), 30), ie(k(2), -10), ie(k(3), 20), ie(k(4), 5))),
		one("tuple_vals_sort2", mk("@", Tuple, te(k(3), 2, "x"), te(k(-1), 0, "y"), te(k(2), 1, "z"))),
		one("str_vals_intkey", mk("@", String, se(k(3), "a"), se(k(-1), "b"), se(k(2), "c"), se(k(100), "d"))),
		one("tuple_key_str_first", mk("@", String, se(k("b", 1), "v"), se(k("a", 2), "w"), se(k("a", -1), "x"))),
		one("tuple_key_str_vals", mk("@", String, se(k(2, "a"), "v1"), se(k(1, "b"), "v2"), se(k(1, "a"), "v3"), se(k(-5, "z"), "v4"))),
		one("avg_basic",
			mk("@a", Avg, ae(nil, 1, 2)), mk("@b", Avg, ae(nil, -1, -2)),
			mk("@c", Avg, ae(nil, -1, 2)), mk("@d", Avg, ae(nil, -3, -4, -4))),
		one("avg_keys", mk("@", Avg, ae(k(1), 10, 20), ae(k(2), -5), ae(k(3), 7, 8))),
		one("max_keys",
			mk("@", Scalar, ie(k(1), 10), ie(k(2), 30), ie(k(3), 20)),
			mk("@n", Scalar, ie(k(1), 1), ie(k(2), -5), ie(k(3), 100))),
		one("stats_basic",
			mk("@s", Stats, ae(nil, 5, 10)),
			mk("@t", Stats, ae(k(1), 3), ae(k(2), 100, -1)),
			mk("@n", Stats, ae(nil, -1, -2))),
		one("big_vals",
			mk("@", Scalar, ie(k(1), 0x7fffffffffffffff), ie(k(2), -0x7fffffffffffffff)),
			unsigned(mk("@u", Scalar, ie(nil, -1)))),
		one("sum_keys_str", mk("@", Scalar, ie(k("x"), 10), ie(k("y"), -10), ie(k("z"), 5), ie(k("w"), 1000))),
		one("empty_at_exit",
			mk("@a", Scalar), count("@b", ie(nil, 0)), mk("@c", Hist), mk("@d", Scalar, ie(nil, 1))),
		{name: "never", probes: 2, steps: []step{exit(
			count("@x", ie(nil, 0)), mk("@y", Scalar), mk("@h", Hist),
			mk("@a", Avg), mk("@s", Stats), mk("@z", String))}},
		func() goldenCase {
			m := mk("@", Scalar, ie(k(1), 10), ie(k(2), 20), ie(k(3), 30), ie(k(4), 40), ie(k(5), 50))
			return goldenCase{name: "print_top", probes: 1, steps: []step{
				pr(m, 2, 0), pr(m, 2, 10), pr(m, 0, 10), pr(m, 10, 0), pr(m, 0, 0), exit(mk("@", Scalar))}}
		}(),
		func() goldenCase {
			m := count("@", ie(k(1), 1), ie(k(2), 2), ie(k(3), 3))
			return goldenCase{name: "print_top_count", probes: 1, steps: []step{
				pr(m, 2, 0), pr(m, 2, 2), exit(count("@"))}}
		}(),
		{name: "print_scalar", probes: 1, steps: []step{
			pr(mk("@a", Scalar, ie(nil, 5)), 0, 0), pr(count("@c", ie(nil, 1)), 0, 0),
			pr(mk("@a", Scalar, ie(nil, 5)), 0, 2), exit(mk("@a", Scalar), count("@c", ie(nil, 0)))}},
		{name: "print_scalar_top", probes: 1, steps: []step{
			pr(mk("@a", Scalar, ie(nil, 7)), 1, 0), pr(mk("@a", Scalar, ie(nil, 7)), 5, 2), exit(mk("@a", Scalar))}},
		func() goldenCase {
			m := mk("@h", Hist, he(k(1), 1), he(k(2), 10, 10), he(k(3), 100, 100, 100))
			return goldenCase{name: "print_hist", probes: 1, steps: []step{
				pr(m, 0, 0), pr(m, 1, 0), pr(m, 2, 2), exit(mk("@h", Hist))}}
		}(),
		func() goldenCase {
			m := h("@h", 5, 5, 5, 100)
			return goldenCase{name: "print_hist_scalar", probes: 1, steps: []step{
				pr(m, 0, 0), pr(m, 0, 2), exit(mk("@h", Hist))}}
		}(),
		{name: "print_hist_div_zero", probes: 1, steps: []step{
			pr(h("@h", 5, 100, 100), 0, 10), exit(mk("@h", Hist))}},
		func() goldenCase {
			m := lh("@l", p0_100_10(), le(p0_100_10(), nil, 5, 5))
			return goldenCase{name: "print_lhist", probes: 1, steps: []step{
				pr(m, 0, 0), pr(m, 0, 2), exit(lh("@l", p0_100_10()))}}
		}(),
		func() goldenCase {
			m := mk("@", Avg, ae(k(1), 10), ae(k(2), 21), ae(k(3), 35))
			return goldenCase{name: "print_avg", probes: 1, steps: []step{
				pr(m, 2, 10), pr(m, 0, 0), exit(mk("@", Avg))}}
		}(),
		func() goldenCase {
			m := mk("@", Stats, ae(k(1), 10), ae(k(2), 21))
			s := mk("@s", Stats, ae(nil, 7))
			return goldenCase{name: "print_stats", probes: 1, steps: []step{
				pr(m, 0, 0), pr(s, 0, 0), pr(m, 1, 10), exit(mk("@", Stats), mk("@s", Stats))}}
		}(),
		{name: "print_strs", probes: 1, steps: []step{
			pr(mk("@", String, se(k(1), "a"), se(k(2), "b"), se(k(3), "c")), 2, 0), exit(mk("@", String))}},
		func() goldenCase {
			m := mk("@", String, se(k("c"), "x"), se(k("a"), "y"), se(k("b"), "z"))
			return goldenCase{name: "print_strvals_top", probes: 1, steps: []step{
				pr(m, 1, 0), pr(m, 5, 0), exit(mk("@", String))}}
		}(),
		func() goldenCase {
			m := mk("@", Scalar, ie(k(1), 10), ie(k(2), -21), ie(k(3), 35))
			return goldenCase{name: "print_minmax", probes: 1, steps: []step{
				pr(m, 0, 0), pr(m, 2, 10), exit(mk("@", Scalar))}}
		}(),
		{name: "print_empty", probes: 1, steps: []step{
			pr(mk("@a", Scalar), 0, 0), text("after\n"), pr(count("@b", ie(nil, 0)), 0, 0), text("after2\n"),
			exit(mk("@a", Scalar), count("@b", ie(nil, 0)))}},
	}
}

func TestGolden017(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "format")
	seen := map[string]bool{}
	for _, tc := range goldenCases() {
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(dir, tc.name+".out"))
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if tc.probes == 1 {
				got.WriteString("Attaching 1 probe...\n")
			} else {
				got.WriteString("Attaching " + strconv.Itoa(tc.probes) + " probes...\n")
			}
			for _, s := range tc.steps {
				if err := s(&got, Style017); err != nil {
					t.Fatal(err)
				}
			}
			if got.String() != string(want) {
				t.Errorf("output differs from bpftrace 0.17\n got:\n%s\nwant:\n%s\ndiff: %s",
					visible(got.String()), visible(string(want)), firstDiff(got.String(), string(want)))
			}
		})
	}
	// Every golden file must have a case.
	outs, err := filepath.Glob(filepath.Join(dir, "*.out"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if name := strings.TrimSuffix(filepath.Base(o), ".out"); !seen[name] {
			t.Errorf("testdata/format/%s.out has no Go case", name)
		}
	}
}

// visible shows line ends, so trailing spaces and blank lines can be seen.
func visible(s string) string {
	return strings.ReplaceAll(s, "\n", "$\n")
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(i-20, 0)
	return "at byte " + strconv.Itoa(i) + ": got " + quoteTail(a, lo, i) + " want " + quoteTail(b, lo, i)
}

func quoteTail(s string, lo, i int) string {
	hi := min(i+20, len(s))
	if lo > len(s) {
		lo = len(s)
	}
	return "\"" + strings.ReplaceAll(s[lo:hi], "\n", `\n`) + "\""
}
