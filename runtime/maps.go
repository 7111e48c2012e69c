package runtime

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/cilium/ebpf"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib/format"
)

// printAllMaps writes bpftrace's end-of-run output: a blank-line separator,
// then every map.
func (r *run) printAllMaps() error {
	if r.script.Info.Settings.NoPrintMapsOnExit {
		return r.out.Flush()
	}
	if !r.json {
		if _, err := r.out.WriteString(format.EndOfRun); err != nil {
			return err
		}
	}
	var maps []*format.Map
	for _, m := range r.script.Code.Maps {
		fm, err := r.readMap(m)
		if err != nil {
			return err
		}
		maps = append(maps, fm)
	}
	if r.json {
		sort.SliceStable(maps, func(i, j int) bool { return maps[i].Name < maps[j].Name })
		for _, fm := range maps {
			if err := r.jsonMap(fm, 0, 0); err != nil {
				return err
			}
		}
		return r.out.Flush()
	}
	if err := format.WriteMaps(r.out, maps); err != nil {
		return err
	}
	return r.out.Flush()
}

// printMap handles print(@m, top, div).
func (r *run) printMap(m *codegen.Map, top, div int64) error {
	fm, err := r.readMap(m)
	if err != nil {
		return err
	}
	if r.json {
		return r.jsonMap(fm, uint64(max(top, 0)), uint64(max(div, 0)))
	}
	return format.PrintMap(r.out, fm, uint64(max(top, 0)), uint64(max(div, 0)))
}

// jsonMap writes the JSON record of a map, if it has entries.
func (r *run) jsonMap(fm *format.Map, top, div uint64) error {
	data, ok := format.StyleLatest.AppendJSONMap(nil, fm, top, div)
	if !ok {
		return nil
	}
	return r.jsonRecord(format.JSONMapType(fm.Kind), data)
}

// kernelMap returns the loaded map behind m.
func (r *run) kernelMap(m *codegen.Map) *ebpf.Map { return r.loaded.coll.Maps[m.Ref] }

// entryRaw is one map entry as bytes: the key, and one value per CPU (a
// single one for maps that are not per-CPU).
type entryRaw struct {
	key    []byte
	values [][]byte
}

// readRaw reads every entry of a map.
func (r *run) readRaw(m *codegen.Map) ([]entryRaw, error) {
	km := r.kernelMap(m)
	perCPU := m.Agg != nil
	valueSize := int(km.ValueSize())
	var out []entryRaw
	split := func(buf []byte) [][]byte {
		if !perCPU {
			return [][]byte{append([]byte(nil), buf...)}
		}
		var vs [][]byte
		for off := 0; off+valueSize <= len(buf); off += valueSize {
			vs = append(vs, buf[off:off+valueSize])
		}
		return vs
	}
	if m.Keyless() {
		var vals []rawValue
		if err := km.Lookup(m.Slot, &vals); err != nil {
			return nil, fmt.Errorf("reading %s: %w", m.Name, err)
		}
		e := entryRaw{}
		for _, v := range vals {
			e.values = append(e.values, v)
		}
		return []entryRaw{e}, nil
	}
	key := make([]byte, km.KeySize())
	if perCPU {
		var vals []rawValue
		it := km.Iterate()
		for it.Next(&key, &vals) {
			e := entryRaw{key: append([]byte(nil), key...)}
			for _, v := range vals {
				e.values = append(e.values, append([]byte(nil), v...))
			}
			out = append(out, e)
		}
		return out, it.Err()
	}
	val := make([]byte, valueSize)
	it := km.Iterate()
	for it.Next(&key, &val) {
		out = append(out, entryRaw{key: append([]byte(nil), key...), values: split(val)})
	}
	return out, it.Err()
}

// rawValue lets cilium/ebpf unmarshal per-CPU values of any size.
type rawValue []byte

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (v *rawValue) UnmarshalBinary(b []byte) error {
	*v = append((*v)[:0], b...)
	return nil
}

// readMap reads a map and merges its per-CPU values into the printing model.
func (r *run) readMap(m *codegen.Map) (*format.Map, error) {
	raws, err := r.readRaw(m)
	if err != nil {
		return nil, err
	}
	fm := &format.Map{Name: m.Name}
	switch {
	case m.Agg != nil:
		switch m.Agg.Kind {
		case types.Count, types.Sum, types.Min, types.Max:
			fm.Kind = format.Scalar
			fm.Unsigned = m.Agg.Kind == types.Count
		case types.Avg:
			fm.Kind = format.Avg
		case types.Stats:
			fm.Kind = format.Stats
		case types.Hist:
			fm.Kind = format.Hist
			fm.HistBits = m.Value.HistBits
		case types.Lhist:
			fm.Kind = format.Lhist
			fm.Lhist = format.LhistParams{Min: m.Value.LhistMin, Max: m.Value.LhistMax, Step: m.Value.LhistStep}
		}
	case m.Value.Kind == types.String, m.Value.Kind == types.Special, m.Value.Kind == types.Probe:
		// Special values (ksym, strerror, ...) and probe names print as
		// their text.
		fm.Kind = format.String
	case m.Value.Kind == types.Tuple:
		fm.Kind = format.Tuple
		fm.RecordNames = m.Value.Names
	default:
		fm.Kind = format.Scalar
		fm.Unsigned = !m.Value.Signed
	}
	if m.Bucketed() {
		fm.Entries = r.mergeBuckets(m, raws)
		return fm, nil
	}
	for _, raw := range raws {
		e := format.Entry{Key: r.decodeKey(m, raw.key)}
		if !r.mergeValue(m, raw.values, &e) {
			continue
		}
		fm.Entries = append(fm.Entries, e)
	}
	return fm, nil
}

// decodeKey turns a stored key into printable values (nil without key).
func (r *run) decodeKey(m *codegen.Map, key []byte) format.Key {
	if m.Key == nil {
		return nil
	}
	if m.Key.Kind == types.Tuple {
		offs := m.Key.Offsets()
		k := make(format.Key, len(m.Key.Elems))
		for i, e := range m.Key.Elems {
			k[i] = r.decodeValue(key[offs[i]:], e)
		}
		return k
	}
	return format.Key{r.decodeValue(key, m.Key)}
}

func u64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

// mergeValue combines per-CPU values into e. It returns false for entries
// that hold nothing yet (a keyless min() that never ran).
func (r *run) mergeValue(m *codegen.Map, values [][]byte, e *format.Entry) bool {
	if m.Agg == nil {
		switch m.Value.Kind {
		case types.String, types.Probe:
			e.Str = r.decodeValue(values[0], m.Value).(string)
		case types.Special:
			switch v := r.decodeValue(values[0], m.Value).(type) {
			case []byte:
				e.Str = string(v)
			default:
				e.Str = fmt.Sprint(v)
			}
		case types.Tuple:
			switch v := r.decodeValue(values[0], m.Value).(type) {
			case format.TupleValue:
				e.Tuple = v
			case format.RecordValue:
				e.Tuple = v.Values
			}
		default:
			switch v := r.decodeValue(values[0], m.Value).(type) {
			case int64:
				e.Int = v
			case uint64:
				e.Int = int64(v)
			}
		}
		return true
	}
	switch m.Agg.Kind {
	case types.Count, types.Sum:
		var total uint64
		for _, v := range values {
			total += u64(v, 0)
		}
		e.Int = int64(total)
		// A keyless count() that never ran prints nothing, like bpftrace's
		// map that was never written; after zero() it prints its 0.
		return !(m.Keyless() && total == 0 && !r.zeroed[m])
	case types.Avg, types.Stats:
		for _, v := range values {
			e.Count += int64(u64(v, 0))
			e.Sum += int64(u64(v, 8))
		}
		return e.Count > 0
	case types.Min, types.Max:
		set := false
		for _, v := range values {
			if u64(v, 8) == 0 {
				continue
			}
			x := int64(u64(v, 0))
			if !set || (m.Agg.Kind == types.Min && x < e.Int) || (m.Agg.Kind == types.Max && x > e.Int) {
				e.Int = x
			}
			set = true
		}
		return set
	}
	return true
}

// mergeBuckets groups hist/lhist entries, whose stored keys end with a
// bucket number, by their user key.
func (r *run) mergeBuckets(m *codegen.Map, raws []entryRaw) []format.Entry {
	type group struct {
		key     format.Key
		buckets []uint64
	}
	groups := map[string]*group{}
	var order []string
	for _, raw := range raws {
		userKey := raw.key[:len(raw.key)-8]
		bucket := int(u64(raw.key, len(raw.key)-8))
		gk := string(userKey)
		g := groups[gk]
		if g == nil {
			g = &group{key: r.decodeKey(m, userKey)}
			groups[gk] = g
			order = append(order, gk)
		}
		if bucket > 4096 {
			continue
		}
		for len(g.buckets) <= bucket {
			g.buckets = append(g.buckets, 0)
		}
		for _, v := range raw.values {
			g.buckets[bucket] += u64(v, 0)
		}
	}
	sort.Strings(order)
	var out []format.Entry
	for _, k := range order {
		out = append(out, format.Entry{Key: groups[k].key, Buckets: groups[k].buckets})
	}
	return out
}

// clearMap removes every entry (clear()); keyless aggregations are zeroed.
func (r *run) clearMap(m *codegen.Map) error {
	if m.Keyless() {
		err := r.zeroMap(m)
		delete(r.zeroed, m) // cleared, not zeroed: it prints nothing
		return err
	}
	km := r.kernelMap(m)
	raws, err := r.readRaw(m)
	if err != nil {
		return err
	}
	for _, raw := range raws {
		km.Delete(raw.key)
	}
	return nil
}

// zeroMap sets every value to zero (zero()).
func (r *run) zeroMap(m *codegen.Map) error {
	if r.zeroed == nil {
		r.zeroed = map[*codegen.Map]bool{}
	}
	r.zeroed[m] = true
	km := r.kernelMap(m)
	raws, err := r.readRaw(m)
	if err != nil {
		return err
	}
	zero := make([]byte, km.ValueSize())
	for _, raw := range raws {
		var value any = zero
		if m.Agg != nil {
			vals := make([]rawValue, len(raw.values))
			for i := range vals {
				vals[i] = zero
			}
			value = vals
		}
		var key any = raw.key
		if m.Keyless() {
			key = m.Slot
		}
		if err := km.Update(key, value, ebpf.UpdateExist); err != nil {
			return fmt.Errorf("zeroing %s: %w", m.Name, err)
		}
	}
	return nil
}
