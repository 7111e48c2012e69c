package format

import (
	"io"
	"math/bits"
)

// k builds a key from Go ints and strings.
func k(elems ...any) Key {
	var key Key
	for _, e := range elems {
		key = append(key, val(e))
	}
	return key
}

// val converts a Go int or string to a Value.
func val(e any) Value {
	switch x := e.(type) {
	case int:
		return int64(x)
	case []any:
		var t TupleValue
		for _, y := range x {
			t = append(t, val(y))
		}
		return t
	}
	return e
}

// histBucket is the bucket index bpftrace's hist() uses for v.
func histBucket(v int64) int {
	switch {
	case v < 0:
		return 0
	case v == 0:
		return 1
	}
	return bits.Len64(uint64(v)) + 1
}

// lhistBucket is the bucket index bpftrace's lhist() uses for v.
func lhistBucket(v int64, p LhistParams) int {
	n := p.Buckets()
	if v < p.Min {
		return 0
	}
	i := int((v-p.Min)/p.Step) + 1
	if i > n-1 {
		i = n - 1
	}
	return i
}

// ie is a Scalar entry.
func ie(key Key, v int64) Entry { return Entry{Key: key, Int: v} }

// se is a String entry.
func se(key Key, s string) Entry { return Entry{Key: key, Str: s} }

// te is a Tuple entry.
func te(key Key, elems ...any) Entry {
	return Entry{Key: key, Tuple: []Value(val(elems).(TupleValue))}
}

// ae is an Avg or Stats entry fed with vals.
func ae(key Key, vals ...int64) Entry {
	e := Entry{Key: key}
	for _, v := range vals {
		e.Count++
		e.Sum += v
	}
	return e
}

// he is a Hist entry fed with vals.
func he(key Key, vals ...int64) Entry {
	e := Entry{Key: key, Buckets: make([]uint64, 65)}
	for _, v := range vals {
		e.Buckets[histBucket(v)]++
	}
	return e
}

// le is a Lhist entry fed with vals.
func le(p LhistParams, key Key, vals ...int64) Entry {
	e := Entry{Key: key, Buckets: make([]uint64, p.Buckets())}
	for _, v := range vals {
		e.Buckets[lhistBucket(v, p)]++
	}
	return e
}

func mk(name string, kind Kind, entries ...Entry) *Map {
	return &Map{Name: name, Kind: kind, Entries: entries}
}

func unsigned(m *Map) *Map {
	m.Unsigned = true
	return m
}

func lh(name string, p LhistParams, entries ...Entry) *Map {
	m := mk(name, Lhist, entries...)
	m.Lhist = p
	return m
}

// step is one piece of a run's stdout.
type step func(w io.Writer, s Style) error

// text is output that is not a map, such as printf's.
func text(t string) step {
	return func(w io.Writer, _ Style) error {
		_, err := io.WriteString(w, t)
		return err
	}
}

// pr is print(@m, top, div).
func pr(m *Map, top, div uint64) step {
	return func(w io.Writer, s Style) error { return s.PrintMap(w, m, top, div) }
}

// exit is the end of the run: EndOfRun and the map dump.
func exit(maps ...*Map) step {
	return func(w io.Writer, s Style) error {
		if _, err := io.WriteString(w, EndOfRun); err != nil {
			return err
		}
		return s.WriteMaps(w, maps)
	}
}

func ints(vs ...int64) []int64 { return vs }

func repeat(v int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func concat(parts ...[]int64) []int64 {
	var out []int64
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
