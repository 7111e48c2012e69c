package runtime

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/stdlib/format"
)

// With RunOptions.Format JSONFormat a run writes newline-delimited JSON to
// Stdout: one object per line, with the "type" and "data" members of
// bpftrace's -f json. Where bpftrace 0.17 and its newest release differ,
// the newest layout is used. The records:
//
//	{"type": "attached_probes", "count": 2, "data": {"probes": 2}}
//	{"type": "printf", "data": "text\n"}
//	{"type": "value", "data": VALUE}                 print(value)
//	{"type": "map", "data": {"@m": {"key": 1}}}      print(@m), and maps at exit
//	{"type": "hist", "data": {"@h": [{"min": 4, "max": 7, "count": 1}]}}
//	{"type": "stats", "data": {"@s": {"count": 2, "average": 6, "total": 12}}}
//	{"type": "time", "data": "10:01:02\n"}
//	{"type": "join", "data": "a b c"}
//	{"type": "cat", "data": "file contents"}
//	{"type": "syscall", "data": "output of system()"}
//	{"type": "errorf", "msg": "text", "filename": "-e", "line": 1, "col": 9}
//	{"type": "warnf", "msg": "text", "filename": "-e", "line": 1, "col": 9}
//	{"type": "helper_error", "msg": "Bad address", "helper": "probe_read_kernel_str", "retcode": -14, "filename": "-e", "line": 1, "col": 27}
//	{"type": "lost_events", "count": 3, "data": {"events": 3}}
//
// Values, maps, the escaping of strings and the writing of integers are
// described in stdlib/format/json.go. Unlike text output, nothing
// separates the end of the run from the map dump, and maps with no
// entries are not printed. gotrace's own messages and warnings ("Lost N
// events", a full map, errors that end the run) go to Stderr as text, as
// bpftrace's do; lost records are reported in both places.

// jsonRecord writes {"type": "TYPE", "data": DATA}; data is JSON.
func (r *run) jsonRecord(typ string, data []byte) error {
	b := make([]byte, 0, len(data)+32)
	b = append(b, `{"type": `...)
	b = format.AppendJSONString(b, typ)
	b = append(b, `, "data": `...)
	b = append(b, data...)
	b = append(b, "}\n"...)
	_, err := r.out.Write(b)
	return err
}

// jsonText writes a record whose data is the string s.
func (r *run) jsonText(typ, s string) error {
	return r.jsonRecord(typ, format.AppendJSONString(nil, s))
}

// jsonCount writes the records that carry a count both as "count" and as
// data member name: attached_probes and lost_events.
func (r *run) jsonCount(typ, name string, n uint64) error {
	c := strconv.FormatUint(n, 10)
	_, err := r.out.WriteString(`{"type": "` + typ + `", "count": ` + c + `, "data": {"` + name + `": ` + c + "}}\n")
	return err
}

// jsonLost writes a lost_events record.
func (r *run) jsonLost(n uint64) {
	r.jsonCount("lost_events", "events", n)
	r.out.Flush()
}

// reportAttached says that n probes are attached: on Stderr in text, as a
// record in JSON.
func (r *run) reportAttached(n int) {
	if r.json {
		r.jsonCount("attached_probes", "probes", uint64(n))
		return
	}
	fmt.Fprintf(r.stderr, "Attached %d probe%s\n", n, map[bool]string{true: "", false: "s"}[n == 1])
}

// jsonLocated writes a record with a message and the script position it
// is about (errorf, warnf, helper_error); extra are members, already JSON,
// put between "msg" and "filename".
func (r *run) jsonLocated(typ, msg string, pos ast.Pos, extra ...string) error {
	b := []byte(`{"type": `)
	b = format.AppendJSONString(b, typ)
	b = append(b, `, "msg": `...)
	b = format.AppendJSONString(b, msg)
	for _, e := range extra {
		b = append(b, ", "...)
		b = append(b, e...)
	}
	b = append(b, `, "filename": `...)
	b = format.AppendJSONString(b, r.script.Source.Name)
	b = append(b, `, "line": `...)
	b = strconv.AppendInt(b, int64(pos.Line), 10)
	b = append(b, `, "col": `...)
	b = strconv.AppendInt(b, int64(pos.Col), 10)
	b = append(b, "}\n"...)
	_, err := r.out.Write(b)
	return err
}

// message handles errorf() and warnf(): "ERROR: msg" or "WARNING: msg" on
// Stderr in text, an errorf or warnf record in JSON.
func (r *run) message(ev *codegen.Event, msg string) error {
	if r.json {
		typ := "errorf"
		if ev.Kind == codegen.WarnfEvent {
			typ = "warnf"
		}
		return r.jsonLocated(typ, msg, ev.Pos)
	}
	prefix := "ERROR: "
	if ev.Kind == codegen.WarnfEvent {
		prefix = "WARNING: "
	}
	r.out.Flush()
	fmt.Fprintln(r.stderr, prefix+msg)
	return nil
}

// helperError reports a failed helper call (-k): in text, a warning on
// Stderr that points at the call,
//
//	-e:1:24: WARNING: Failed to probe_read_kernel_str: Bad address (-14)
//	BEGIN { printf("%s\n", str(0)); }
//	                       ^
//
// and in JSON a helper_error record.
func (r *run) helperError(ev *codegen.Event, ret int64) error {
	name := helperName(ev.Helper)
	msg := errnoText(ret)
	if r.json {
		return r.jsonLocated("helper_error", msg, ev.Pos,
			`"helper": `+string(format.AppendJSONString(nil, name)),
			`"retcode": `+strconv.FormatInt(ret, 10))
	}
	text := diag.Format(r.script.Source, &diag.Error{Pos: ev.Pos, Msg: fmt.Sprintf("Failed to %s: %s (%d)", name, msg, ret)})
	text = strings.Replace(text, ": error: ", ": WARNING: ", 1)
	r.out.Flush()
	fmt.Fprintln(r.stderr, text)
	return nil
}

// helperName is a helper's name as the kernel's documentation spells it,
// without bpf_: probe_read_kernel_str.
func helperName(fn asm.BuiltinFunc) string {
	camel := strings.TrimPrefix(fn.String(), "Fn")
	var b strings.Builder
	for i, c := range camel {
		if unicode.IsUpper(c) {
			if i > 0 {
				b.WriteByte('_')
			}
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// errnoText is strerror() of a helper's negative return value: "Bad
// address" for -14.
func errnoText(ret int64) string {
	if ret >= 0 || ret < -4095 {
		return "error " + strconv.FormatInt(ret, 10)
	}
	s := unix.Errno(-ret).Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
