package format

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

// decodeJSON parses b with encoding/json, numbers kept as json.Number so
// that large integers compare exactly.
func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %q: %v", b, err)
	}
	if d.More() {
		t.Fatalf("trailing data after JSON value in %q", b)
	}
	return v
}

func TestAppendJSONString(t *testing.T) {
	tests := []struct {
		in, want string
		// decoded is what a JSON decoder reads back.
		decoded string
	}{
		{"plain", `"plain"`, "plain"},
		{`say "hi"`, `"say \"hi\""`, `say "hi"`},
		{`back\slash`, `"back\\slash"`, `back\slash`},
		{"a\nb\r\tc", `"a\nb\r\tc"`, "a\nb\r\tc"},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f\"", "\x00\x01\x1f\x7f"},
		{"\b\f", `"\u0008\u000c"`, "\b\f"},
		// Valid UTF-8 is copied as it is.
		{"é€😀", "\"é€😀\"", "é€😀"},
		// Invalid bytes become \u00XX, one per byte.
		{"\xff", `"\u00ff"`, "\u00ff"},
		{"a\x80b", `"a\u0080b"`, "a\u0080b"},
		{"\xc3", `"\u00c3"`, "\u00c3"},                                 // a truncated sequence
		{"\xc3\xa9\xc3", "\"é\\u00c3\"", "é\u00c3"},                    // valid, then truncated
		{"\xed\xa0\x80", `"\u00ed\u00a0\u0080"`, "\u00ed\u00a0\u0080"}, // a UTF-16 surrogate
		{"\xf8\x88\x80\x80\x80", `"\u00f8\u0088\u0080\u0080\u0080"`, "\u00f8\u0088\u0080\u0080\u0080"},
	}
	for _, tt := range tests {
		got := string(AppendJSONString(nil, tt.in))
		if got != tt.want {
			t.Errorf("AppendJSONString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if v := decodeJSON(t, []byte(got)); v != tt.decoded {
			t.Errorf("AppendJSONString(%q) decodes as %q, want %q", tt.in, v, tt.decoded)
		}
	}
}

// TestAppendJSONStringAllBytes checks that every byte value, next to
// valid UTF-8 text, makes valid JSON whose code points give the bytes back
// (an invalid byte b decodes as U+00b; "€" is above that range).
func TestAppendJSONStringAllBytes(t *testing.T) {
	for c := 0; c < 256; c++ {
		in := "x" + string([]byte{byte(c)}) + "€"
		out := AppendJSONString(nil, in)
		got := decodeJSON(t, out).(string)
		var back []byte
		for _, r := range got {
			if r == '€' {
				back = append(back, "€"...)
				continue
			}
			back = append(back, byte(r))
		}
		if string(back) != in {
			t.Errorf("byte %#x: %s decodes as %q, whose bytes are %q", c, out, got, back)
		}
	}
}

func TestAppendJSONValue(t *testing.T) {
	tests := []struct {
		v    Value
		want string
	}{
		{int64(-5), `-5`},
		{int64(math.MinInt64), `-9223372036854775808`},
		{uint64(math.MaxUint64), `18446744073709551615`},
		{uint64(1<<53 + 1), `9007199254740993`},
		{"s\"", `"s\""`},
		{true, `true`},
		{[]byte{0, 0x41, 0xff}, `[0,65,255]`},
		{TupleValue{int64(1), "a", TupleValue{int64(4), int64(5)}}, `[1,"a",[4,5]]`},
		{RecordValue{Names: []string{"a", "b"}, Values: []Value{int64(0), "x"}}, `{"a": 0, "b": "x"}`},
		{nil, `null`},
	}
	for _, tt := range tests {
		got := string(AppendJSONValue(nil, tt.v))
		if got != tt.want {
			t.Errorf("AppendJSONValue(%#v) = %s, want %s", tt.v, got, tt.want)
		}
		decodeJSON(t, []byte(got))
	}
	// A uint64 beyond 2^53 comes back exactly.
	n := decodeJSON(t, AppendJSONValue(nil, uint64(math.MaxUint64-1))).(json.Number)
	if u, err := strconv.ParseUint(string(n), 10, 64); err != nil || u != math.MaxUint64-1 {
		t.Errorf("%s parses as %d, %v", n, u, err)
	}
}

func TestAppendJSONMap(t *testing.T) {
	tests := []struct {
		name      string
		m         *Map
		top, div  uint64
		want      string
		wantEmpty bool
	}{
		{
			name: "scalar",
			m:    &Map{Name: "@s", Kind: Scalar, Entries: []Entry{{Int: 5}}},
			want: `{"@s": 5}`,
		},
		{
			name: "unsigned above 2^63",
			m:    &Map{Name: "@u", Kind: Scalar, Unsigned: true, Entries: []Entry{{Int: -1}}},
			want: `{"@u": 18446744073709551615}`,
		},
		{
			name: "keys sorted by value, then key",
			m: &Map{Name: "@c", Kind: Scalar, Unsigned: true, Entries: []Entry{
				{Key: Key{int64(2)}, Int: 1}, {Key: Key{int64(1)}, Int: 1}, {Key: Key{int64(3)}, Int: 0},
			}},
			want: `{"@c": {"3": 0, "1": 1, "2": 1}}`,
		},
		{
			name: "top and div",
			m: &Map{Name: "@c", Kind: Scalar, Entries: []Entry{
				{Key: Key{"a"}, Int: 10}, {Key: Key{"b"}, Int: 20}, {Key: Key{"c"}, Int: 30},
			}},
			top: 2, div: 10,
			want: `{"@c": {"b": 2, "c": 3}}`,
		},
		{
			name: "several key elements",
			m:    &Map{Name: "@k", Kind: Scalar, Entries: []Entry{{Key: Key{"bpftrace", int64(2)}, Int: 5}}},
			want: `{"@k": {"bpftrace,2": 5}}`,
		},
		{
			name: "string key with quotes and spaces",
			m:    &Map{Name: "@k", Kind: Scalar, Entries: []Entry{{Key: Key{`a "b" c`}, Int: 5}}},
			want: `{"@k": {"a \"b\" c": 5}}`,
		},
		{
			name: "string value",
			m:    &Map{Name: "@str", Kind: String, Entries: []Entry{{Str: "a b \n d e"}}},
			want: `{"@str": "a b \n d e"}`,
		},
		{
			name: "tuple value",
			m:    &Map{Name: "@", Kind: Tuple, Entries: []Entry{{Tuple: []Value{int64(1), int64(2), "string", TupleValue{int64(4), int64(5)}}}}},
			want: `{"@": [1,2,"string",[4,5]]}`,
		},
		{
			name: "record value",
			m:    &Map{Name: "@a", Kind: Tuple, RecordNames: []string{"a", "c"}, Entries: []Entry{{Tuple: []Value{int64(0), "str"}}}},
			want: `{"@a": {"a": 0, "c": "str"}}`,
		},
		{
			name: "avg",
			m: &Map{Name: "@", Kind: Avg, Entries: []Entry{
				{Key: Key{"a"}, Count: 1, Sum: 10}, {Key: Key{"b"}, Count: 1, Sum: 20}, {Key: Key{"c"}, Count: 2, Sum: 60},
			}},
			top: 2, div: 10,
			want: `{"@": {"b": 2, "c": 3}}`,
		},
		{
			name: "stats",
			m:    &Map{Name: "@stats", Kind: Stats, Entries: []Entry{{Count: 2, Sum: 12}}},
			want: `{"@stats": {"count": 2, "average": 6, "total": 12}}`,
		},
		{
			name: "hist",
			m:    &Map{Name: "@hist", Kind: Hist, Entries: []Entry{{Buckets: []uint64{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1}}}},
			want: `{"@hist": [{"min": 2, "max": 3, "count": 1},{"min": 4, "max": 7, "count": 0},{"min": 8, "max": 15, "count": 0},` +
				`{"min": 16, "max": 31, "count": 0},{"min": 32, "max": 63, "count": 0},{"min": 64, "max": 127, "count": 0},` +
				`{"min": 128, "max": 255, "count": 0},{"min": 256, "max": 511, "count": 0},{"min": 512, "max": 1023, "count": 0},` +
				`{"min": 1024, "max": 2047, "count": 1}]}`,
		},
		{
			name: "hist negative, 0 and 1",
			m:    &Map{Name: "@h", Kind: Hist, Entries: []Entry{{Buckets: []uint64{1, 2, 3}}}},
			want: `{"@h": [{"max": -1, "count": 1},{"min": 0, "max": 0, "count": 2},{"min": 1, "max": 1, "count": 3}]}`,
		},
		{
			name: "hist, last bucket",
			m:    &Map{Name: "@h", Kind: Hist, Entries: []Entry{{Buckets: append(make([]uint64, 65), 1)}}},
			want: `{"@h": [{"min": 9223372036854775808, "max": 18446744073709551615, "count": 1}]}`,
		},
		{
			name: "hist(n, 2)",
			m:    &Map{Name: "@h", Kind: Hist, HistBits: 2, Entries: []Entry{{Buckets: []uint64{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1}}}},
			want: `{"@h": [{"min": 8, "max": 9, "count": 1},{"min": 10, "max": 11, "count": 1},{"min": 12, "max": 13, "count": 1}]}`,
		},
		{
			name: "hist keys, div",
			m: &Map{Name: "@", Kind: Hist, Entries: []Entry{
				{Key: Key{int64(3)}, Buckets: []uint64{0, 0, 0, 0, 0, 0, 20}},
				{Key: Key{int64(2)}, Buckets: []uint64{0, 0, 0, 0, 0, 0, 10}},
			}},
			div:  10,
			want: `{"@": {"2": [{"min": 16, "max": 31, "count": 1}], "3": [{"min": 16, "max": 31, "count": 2}]}}`,
		},
		{
			name: "zeroed hist",
			m:    &Map{Name: "@hist", Kind: Hist, Entries: []Entry{{Buckets: []uint64{0, 0, 0}}}},
			want: `{"@hist": []}`,
		},
		{
			name: "lhist",
			m: &Map{Name: "@h", Kind: Lhist, Lhist: LhistParams{Min: 0, Max: 100, Step: 10},
				Entries: []Entry{{Buckets: []uint64{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}}}},
			want: `{"@h": [{"min": 0, "max": 9, "count": 1},{"min": 10, "max": 19, "count": 0},{"min": 20, "max": 29, "count": 0},` +
				`{"min": 30, "max": 39, "count": 0},{"min": 40, "max": 49, "count": 0},{"min": 50, "max": 59, "count": 1},` +
				`{"min": 60, "max": 69, "count": 0},{"min": 70, "max": 79, "count": 0},{"min": 80, "max": 89, "count": 0},` +
				`{"min": 90, "max": 99, "count": 0},{"min": 100, "count": 1}]}`,
		},
		{
			name: "lhist below min",
			m: &Map{Name: "@l", Kind: Lhist, Lhist: LhistParams{Min: -10, Max: 10, Step: 5},
				Entries: []Entry{{Buckets: []uint64{3, 1}}}},
			want: `{"@l": [{"max": -11, "count": 3},{"min": -10, "max": -6, "count": 1}]}`,
		},
		{
			name:      "empty",
			m:         &Map{Name: "@e", Kind: Scalar},
			wantEmpty: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := StyleLatest.AppendJSONMap(nil, tt.m, tt.top, tt.div)
			if ok == tt.wantEmpty {
				t.Fatalf("AppendJSONMap reported ok = %v", ok)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if ok {
				decodeJSON(t, got)
			}
		})
	}
}

func TestJSONMapType(t *testing.T) {
	for k, want := range map[Kind]string{Scalar: "map", String: "map", Tuple: "map", Avg: "stats", Stats: "stats", Hist: "hist", Lhist: "hist"} {
		if got := JSONMapType(k); got != want {
			t.Errorf("JSONMapType(%d) = %q, want %q", k, got, want)
		}
	}
}
