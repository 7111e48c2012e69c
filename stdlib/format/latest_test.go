package format

import (
	"bytes"
	"strings"
	"testing"
)

// row builds one histogram row: label, count and a bar of n '@'.
func row(label string, count string, n int) string {
	return label + strings.Repeat(" ", max(16-len(label), 0)) +
		strings.Repeat(" ", max(8-len(count), 0)) + count +
		" |" + strings.Repeat("@", n) + strings.Repeat(" ", 52-n) + "|\n"
}

// TestLatest checks StyleLatest where it differs from 0.17 (see Style),
// and that it agrees elsewhere. The expectations follow bpftrace 0.26.1:
// its docs (hist headers without a trailing space), its runtime tests
// (stats records, lhist rows) and its output code (the rest).
func TestLatest(t *testing.T) {
	full := 52
	tests := []struct {
		name  string
		steps []step
		want  string
	}{
		{
			name:  "stats scalar and keyed, no blank line after",
			steps: []step{exit(mk("@s", Stats, ae(nil, 5, 10)), mk("@t", Stats, ae(k(1), 3), ae(k(2), 100, -1)), mk("@z", Scalar, ie(nil, 1)))},
			want: "\n\n" +
				"@s: { .count = 2, .average = 7, .total = 15 }\n" +
				"@t[1]: { .count = 1, .average = 3, .total = 3 }\n" +
				"@t[2]: { .count = 2, .average = 49, .total = 99 }\n" +
				"@z: 1\n",
		},
		{
			name:  "stats negative average truncates toward zero",
			steps: []step{pr(mk("@", Stats, ae(nil, -1, -2, -10)), 0, 0)},
			want:  "@: { .count = 3, .average = -4, .total = -13 }\n",
		},
		{
			name:  "print stats with top and div: top applies, only the average is divided",
			steps: []step{pr(mk("@", Stats, ae(k(1), 10), ae(k(2), 21)), 1, 10)},
			want:  "@[2]: { .count = 1, .average = 2, .total = 21 }\n",
		},
		{
			name:  "avg has no blank line after",
			steps: []step{exit(mk("@a", Avg, ae(nil, 1, 2)), mk("@b", Avg, ae(k("x"), -1, -2), ae(k("y"), 7)))},
			want:  "\n\n@a: 1\n@b[x]: -1\n@b[y]: 7\n",
		},
		{
			name:  "hist header without trailing space, blank line after each",
			steps: []step{exit(mk("@h", Hist, he(nil, 5)), mk("@k", Hist, he(k(1), 1), he(k(2), 10, 10)))},
			want: "\n\n@h:\n" + row("[4, 8)", "1", full) + "\n" +
				"@k[1]:\n" + row("[1]", "1", full) + "\n" +
				"@k[2]:\n" + row("[8, 16)", "2", full) + "\n",
		},
		{
			name: "empty maps print nothing",
			steps: []step{exit(mk("@a", Scalar), mk("@b", Avg), mk("@c", Stats), mk("@d", Hist),
				lh("@e", p0_100_10()), mk("@f", String), mk("@g", Tuple), mk("@h", Scalar, ie(nil, 0)))},
			want: "\n\n@h: 0\n",
		},
		{
			name:  "print of an empty map prints nothing",
			steps: []step{text("a\n"), pr(mk("@", Scalar), 0, 0), text("b\n")},
			want:  "a\nb\n",
		},
		{
			name:  "hist div scales bars by the divided counts",
			steps: []step{pr(mk("@h", Hist, he(nil, 5, 5, 5, 100)), 0, 2)},
			want: "@h:\n" + row("[4, 8)", "1", full) + row("[8, 16)", "0", 0) + row("[16, 32)", "0", 0) +
				row("[32, 64)", "0", 0) + row("[64, 128)", "0", 0) + "\n",
		},
		{
			name:  "hist div to all zeros draws no bars",
			steps: []step{pr(mk("@h", Hist, he(nil, 5, 100, 100)), 0, 10)},
			want: "@h:\n" + row("[4, 8)", "0", 0) + row("[8, 16)", "0", 0) + row("[16, 32)", "0", 0) +
				row("[32, 64)", "0", 0) + row("[64, 128)", "0", 0) + "\n",
		},
		{
			name:  "hist labels past 2^40 use T, P, E",
			steps: []step{pr(mk("@h", Hist, he(nil, 1<<40, 1<<50, 1<<62+5, 1<<63-1)), 0, 0)},
			want: "@h:\n" + row("[1T, 2T)", "1", 26) +
				hRows(histBucket(1<<40)+1, histBucket(1<<50)-1, StyleLatest) +
				row("[1P, 2P)", "1", 26) +
				hRows(histBucket(1<<50)+1, histBucket(1<<62)-1, StyleLatest) +
				row("[4E, 8E)", "2", full) + "\n",
		},
		{
			name:  "lhist bounds get K/M only when the step is a multiple of 1024",
			steps: []step{pr(lh("@l", p0_1G_100M(), le(p0_1G_100M(), nil, 250000000, 350000000, 350000000)), 0, 0)},
			want:  "@l:\n" + row("[200000000, 300000000)", "1", 26) + row("[300000000, 400000000)", "2", full) + "\n",
		},
		{
			name: "lhist with a 1024 multiple step",
			steps: []step{pr(lh("@l", LhistParams{Min: 0, Max: 5 * 1024, Step: 1024},
				le(LhistParams{Min: 0, Max: 5 * 1024, Step: 1024}, nil, 10, 1500, 2500, 6000)), 0, 0)},
			want: "@l:\n" + row("[0, 1K)", "1", full) + row("[1K, 2K)", "1", full) + row("[2K, 3K)", "1", full) +
				row("[3K, 4K)", "0", 0) + row("[4K, 5K)", "0", 0) + row("[5K, ...)", "1", full) + "\n",
		},
		{
			name:  "lhist with step 1 prints one-value buckets as [n]",
			steps: []step{pr(lh("@l", p0_10_1(), le(p0_10_1(), nil, -3, 0, 1, 1, 10)), 0, 0)},
			want: "@l:\n" + row("(..., 0)", "1", 26) + row("[0]", "1", 26) + row("[1]", "2", full) +
				row("[2]", "0", 0) + row("[3]", "0", 0) + row("[4]", "0", 0) + row("[5]", "0", 0) +
				row("[6]", "0", 0) + row("[7]", "0", 0) + row("[8]", "0", 0) + row("[9]", "0", 0) +
				row("[10, ...)", "1", 26) + "\n",
		},
		{
			name:  "lhist overflow bucket when the range is not a multiple of the step",
			steps: []step{pr(lh("@l", p0_25_10(), le(p0_25_10(), nil, 5, 22, 26)), 0, 0)},
			want:  "@l:\n" + row("[0, 10)", "1", 26) + row("[10, 20)", "0", 0) + row("[20, ...)", "2", full) + "\n",
		},
		{
			name:  "lhist overflow and underflow only",
			steps: []step{pr(lh("@o", p0_100_10(), le(p0_100_10(), nil, 100)), 0, 0), pr(lh("@u", p10_50_5(), le(p10_50_5(), nil, 9)), 0, 0)},
			want:  "@o:\n" + row("[100, ...)", "1", full) + "\n" + "@u:\n" + row("(..., 10)", "1", full) + "\n",
		},
		{
			name:  "keys with integers sort signed",
			steps: []step{pr(mk("@", String, se(k(3), "a"), se(k(-1), "b"), se(k(2), "c"), se(k(100), "d")), 0, 0)},
			want:  "@[-1]: b\n@[2]: c\n@[3]: a\n@[100]: d\n",
		},
		{
			name:  "ties are broken by key",
			steps: []step{pr(unsigned(mk("@", Scalar, ie(k("e"), 1), ie(k("c"), 1), ie(k("a"), 2), ie(k("b"), 1))), 0, 0)},
			want:  "@[b]: 1\n@[c]: 1\n@[e]: 1\n@[a]: 2\n",
		},
		{
			name:  "min/max maps sort signed",
			steps: []step{pr(mk("@", Scalar, ie(k(1), 10), ie(k(2), -21), ie(k(3), 35)), 0, 0)},
			want:  "@[2]: -21\n@[1]: 10\n@[3]: 35\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got bytes.Buffer
			for _, s := range tt.steps {
				if err := s(&got, StyleLatest); err != nil {
					t.Fatal(err)
				}
			}
			if got.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", visible(got.String()), visible(tt.want))
			}
		})
	}
}

// hRows is the zero rows of hist buckets lo..hi.
func hRows(lo, hi int, s Style) string {
	var b strings.Builder
	for i := lo; i <= hi; i++ {
		b.WriteString(row(s.histLabel(i, 0), "0", 0))
	}
	return b.String()
}

// TestPackageDefaultsAreLatest checks that the package-level functions use
// StyleLatest.
func TestPackageDefaultsAreLatest(t *testing.T) {
	m := mk("@s", Stats, ae(k(1), 4))
	var a, b bytes.Buffer
	if err := WriteMap(&a, m); err != nil {
		t.Fatal(err)
	}
	if err := StyleLatest.WriteMap(&b, m); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() || a.String() != "@s[1]: { .count = 1, .average = 4, .total = 4 }\n" {
		t.Errorf("WriteMap = %q, StyleLatest.WriteMap = %q", a.String(), b.String())
	}
	a.Reset()
	if err := PrintMap(&a, mk("@", Scalar, ie(k(1), 10), ie(k(2), 20)), 1, 10); err != nil {
		t.Fatal(err)
	}
	if a.String() != "@[2]: 2\n" {
		t.Errorf("PrintMap = %q", a.String())
	}
	a.Reset()
	if err := WriteMaps(&a, []*Map{mk("@b", Scalar, ie(nil, 2)), mk("@a", Scalar, ie(nil, 1))}); err != nil {
		t.Fatal(err)
	}
	if a.String() != "@a: 1\n@b: 2\n" {
		t.Errorf("WriteMaps = %q", a.String())
	}
}

func TestHistLabels(t *testing.T) {
	tests := []struct {
		index       int
		latest, old string
	}{
		{0, "(..., 0)", "(..., 0)"},
		{1, "[0]", "[0]"},
		{2, "[1]", "[1]"},
		{3, "[2, 4)", "[2, 4)"},
		{11, "[512, 1K)", "[512, 1K)"},
		{12, "[1K, 2K)", "[1K, 2K)"},
		{22, "[1M, 2M)", "[1M, 2M)"},
		{32, "[1G, 2G)", "[1G, 2G)"},
		{33, "[2G, 4G)", "[2G, 4G)"},
		{42, "[1T, 2T)", "[1T, 2T)"},
		{52, "[1P, 2P)", "[1024T, 2048T)"},
		{62, "[1E, 2E)", "[1048576T, 2097152T)"},
		{64, "[4E, 8E)", "[4194304T, 8388608T)"},
	}
	for _, tt := range tests {
		if got := StyleLatest.histLabel(tt.index, 0); got != tt.latest {
			t.Errorf("StyleLatest.histLabel(%d) = %q, want %q", tt.index, got, tt.latest)
		}
		if got := Style017.histLabel(tt.index, 0); got != tt.old {
			t.Errorf("Style017.histLabel(%d) = %q, want %q", tt.index, got, tt.old)
		}
	}
	// hist(n, k): 2^k buckets per power of two.
	sub := []struct {
		index, k int
		want     string
	}{
		{4, 1, "[3]"}, {5, 1, "[4, 6)"}, {6, 1, "[6, 8)"}, {7, 1, "[8, 12)"},
		{8, 2, "[7]"}, {9, 2, "[8, 10)"}, {12, 2, "[14, 16)"}, {13, 2, "[16, 20)"},
		{21, 1, "[1024, 1536)"}, {22, 1, "[1536, 2K)"}, {23, 1, "[2K, 3K)"},
		{64, 5, "[63]"}, {65, 5, "[64, 66)"},
	}
	for _, tt := range sub {
		if got := StyleLatest.histLabel(tt.index, tt.k); got != tt.want {
			t.Errorf("histLabel(%d, k=%d) = %q, want %q", tt.index, tt.k, got, tt.want)
		}
	}
	if histBucket(1500) != 12 || histBucket(1<<40) != 42 || histBucket(1<<63-1) != 64 {
		t.Errorf("test helper histBucket is off")
	}
}

func TestBarLength(t *testing.T) {
	tests := []struct {
		count, max uint64
		want       int
	}{
		{1, 1, 52}, {0, 5, 0}, {1, 3, 17}, {2, 3, 34}, {1, 7, 7}, {3, 7, 22},
		{15, 26, 30}, // 29 in double precision
		{45, 78, 30},
		{1, 0, 0},
		{1, 1 << 40, 0},
	}
	for _, tt := range tests {
		if got := barLength(tt.count, tt.max); got != tt.want {
			t.Errorf("barLength(%d, %d) = %d, want %d", tt.count, tt.max, got, tt.want)
		}
	}
}

func TestFormatKeyAndValue(t *testing.T) {
	tests := []struct {
		key  Key
		want string
	}{
		{nil, ""},
		{k(1), "[1]"},
		{k(-3), "[-3]"},
		{k("nginx"), "[nginx]"},
		{k(""), "[]"},
		{k(1, "a"), "[1, a]"},
		{Key{uint64(1<<64 - 1)}, "[18446744073709551615]"},
		{Key{TupleValue{int64(1), "b"}, int64(2)}, "[(1, b), 2]"},
		{Key{true}, "[true]"},
	}
	for _, tt := range tests {
		if got := FormatKey(tt.key); got != tt.want {
			t.Errorf("FormatKey(%v) = %q, want %q", tt.key, got, tt.want)
		}
	}
	if got := FormatValue(TupleValue{int64(1), "a", TupleValue{int64(-2), "b"}}); got != "(1, a, (-2, b))" {
		t.Errorf("FormatValue(nested tuple) = %q", got)
	}
}

func TestAverage(t *testing.T) {
	tests := []struct{ count, sum, want int64 }{
		{2, 3, 1}, {2, -3, -1}, {2, 1, 0}, {3, -11, -3}, {0, 5, 0}, {1, -1 << 63, -1 << 63},
	}
	for _, tt := range tests {
		if got := Average(tt.count, tt.sum); got != tt.want {
			t.Errorf("Average(%d, %d) = %d, want %d", tt.count, tt.sum, got, tt.want)
		}
	}
	if got := Style017.FormatStats(2, 15, 1); got != "count 2, average 7, total 15" {
		t.Errorf("Style017.FormatStats = %q", got)
	}
	if got := StyleLatest.FormatStats(0, 0, 0); got != "{ .count = 0, .average = 0, .total = 0 }" {
		t.Errorf("StyleLatest.FormatStats = %q", got)
	}
}
