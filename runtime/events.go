package runtime

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib/format"
)

// handle acts on one ring buffer record.
func (r *run) handle(rec []byte) error {
	if len(rec) < 8 {
		return fmt.Errorf("short event record (%d bytes)", len(rec))
	}
	id := binary.LittleEndian.Uint64(rec)
	if id >= uint64(len(r.script.Code.Events)) {
		return fmt.Errorf("event record with unknown id %d", id)
	}
	ev := r.script.Code.Events[id]
	if ev.Kind == codegen.ProcessEvent {
		// Even after exit(): the process's addresses may yet be printed.
		r.script.lib.ProcessSeen(int(r.decodeFields(rec, ev.Args)[0].(uint64)))
		return nil
	}
	if r.exited && !r.inEnd {
		// After exit(), like bpftrace, print nothing more until END runs:
		// other CPUs may have queued records before the probes came off.
		return nil
	}
	switch ev.Kind {
	case codegen.PrintfEvent:
		text := ev.Printf.Render(r.decodeFields(rec, ev.Args))
		if r.json {
			return r.jsonText("printf", text)
		}
		_, err := r.out.WriteString(text)
		return err
	case codegen.CatEvent:
		return r.cat(ev.Printf.Render(r.decodeFields(rec, ev.Args)))
	case codegen.SystemEvent:
		return r.system(ev.Printf.Render(r.decodeFields(rec, ev.Args)))
	case codegen.ErrorfEvent, codegen.WarnfEvent:
		return r.message(ev, ev.Printf.Render(r.decodeFields(rec, ev.Args)))
	case codegen.HelperErrorEvent:
		return r.helperError(ev, r.decodeFields(rec, ev.Args)[0].(int64))
	case codegen.PrintValueEvent:
		v := r.decodeFields(rec, ev.Args)[0]
		if r.json {
			return r.jsonRecord("value", format.AppendJSONValue(nil, v))
		}
		_, err := fmt.Fprintf(r.out, "%s\n", format.FormatValue(v))
		return err
	case codegen.ExitEvent:
		r.exited = true
		if len(ev.Args) == 1 {
			r.status = int(r.decodeFields(rec, ev.Args)[0].(int64))
		}
	case codegen.PrintMapEvent:
		return r.printMap(ev.Map, ev.Top, ev.Div)
	case codegen.JoinEvent:
		n := min(int(binary.LittleEndian.Uint64(rec[8:])), codegen.JoinMax)
		parts := make([]string, n)
		for i := range parts {
			off := 16 + i*codegen.JoinStrSize
			parts[i] = r.decodeValue(rec[off:], types.NewString(codegen.JoinStrSize)).(string)
		}
		if r.json {
			return r.jsonText("join", strings.Join(parts, ev.Separator))
		}
		_, err := fmt.Fprintln(r.out, strings.Join(parts, ev.Separator))
		return err
	case codegen.TimeEvent:
		text := format.Strftime(ev.TimeFormat, time.Now())
		if r.json {
			return r.jsonText("time", text)
		}
		_, err := r.out.WriteString(text)
		return err
	case codegen.ClearEvent:
		return r.clearMap(ev.Map)
	case codegen.ZeroEvent:
		return r.zeroMap(ev.Map)
	}
	return nil
}

// decodeFields reads values laid out by codegen.recordLayout.
func (r *run) decodeFields(rec []byte, fields []codegen.Field) []format.Value {
	vals := make([]format.Value, len(fields))
	for i, f := range fields {
		vals[i] = r.decodeValue(rec[f.Offset:], f.Type)
	}
	return vals
}

// decodeValue reads one value of type t from b.
func (r *run) decodeValue(b []byte, t *types.Type) format.Value {
	switch t.Kind {
	case types.String:
		n := min(t.Size, len(b))
		s := b[:n]
		for i, c := range s {
			if c == 0 {
				s = s[:i]
				break
			}
		}
		return string(s)
	case types.Probe:
		i := binary.LittleEndian.Uint64(b)
		names := r.script.Code.ProbeNames
		if t.Name == "func" {
			names = r.script.Code.ProbeFuncs
		}
		if i < uint64(len(names)) {
			return names[i]
		}
		return fmt.Sprintf("probe#%d", i)
	case types.Special:
		return r.script.lib.FormatSpecial(t, b)
	case types.Tuple:
		offs := t.Offsets()
		tv := make(format.TupleValue, len(t.Elems))
		for i, e := range t.Elems {
			tv[i] = r.decodeValue(b[offs[i]:], e)
		}
		if t.Names != nil {
			return format.RecordValue{Names: t.Names, Values: tv}
		}
		return tv
	}
	var u uint64
	switch t.Size {
	case 1:
		u = uint64(b[0])
	case 2:
		u = uint64(binary.LittleEndian.Uint16(b))
	case 4:
		u = uint64(binary.LittleEndian.Uint32(b))
	default:
		u = binary.LittleEndian.Uint64(b)
	}
	if t.Kind == types.Int && t.Signed {
		shift := 64 - 8*uint(t.Size)
		return int64(u<<shift) >> shift
	}
	return u
}
