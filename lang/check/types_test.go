package check_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/check"
	"github.com/gotrace/gotrace/lang/types"
)

// typeString renders t for comparison, adding the address space of
// pointers, which types.Type.String leaves out.
func typeString(t *types.Type) string {
	if t == nil {
		return "<nil>"
	}
	if t.Kind == types.Pointer {
		if t.AddrSpace == types.User {
			return t.String() + " (user)"
		}
		return t.String() + " (kernel)"
	}
	if t.Kind == types.Agg && t.Agg == types.Lhist {
		return t.String() + lhistBounds(t)
	}
	return t.String()
}

func lhistBounds(t *types.Type) string {
	return fmt.Sprintf("[%d,%d,%d]", t.LhistMin, t.LhistMax, t.LhistStep)
}

// assigned returns the value expression assigned to each scratch variable
// (the first assignment, in source order). Tests name expressions by the
// variable they are assigned to: `$sum = pid + 1` selects `pid + 1`.
func assigned(prog *ast.Program) map[string]ast.Expr {
	out := map[string]ast.Expr{}
	for _, p := range prog.Probes {
		ast.Inspect(p, func(n ast.Node) bool {
			if s, ok := n.(*ast.AssignStmt); ok {
				if v, ok := s.Target.(*ast.Var); ok {
					if _, seen := out[v.Name]; !seen {
						out[v.Name] = s.Value
					}
				}
			}
			return true
		})
	}
	return out
}

// TestExprTypes checks the types and compile-time values the checker
// records for expressions. Each expression is selected by the scratch
// variable it is assigned to.
func TestExprTypes(t *testing.T) {
	const u64max = "0xffffffffffffffff"
	tests := []struct {
		name   string
		params []string
		src    string
		types  map[string]string // $var -> type of the assigned expression
		consts map[string]int64  // $var -> its compile-time value
		// noConst lists variables whose value must not be a constant.
		noConst []string
		strs    map[string]string // $var -> compile-time string value
	}{
		{
			name: "literals",
			src:  `BEGIN { $a = 1; $b = ` + u64max + `; $c = 1_000; $d = 5ms; $e = 2s; $f = "hi"; $g = 1e3; }`,
			types: map[string]string{
				"$a": "int64", "$b": "uint64", "$c": "int64", "$d": "int64", "$e": "int64",
				"$f": "string[3]", "$g": "int64",
			},
			consts: map[string]int64{"$a": 1, "$b": -1, "$c": 1000, "$d": 5_000_000, "$e": 2_000_000_000, "$g": 1000},
			strs:   map[string]string{"$f": "hi"},
		},
		{
			name: "integer promotion",
			src: `tracepoint:syscalls:sys_enter_openat {
				$pid1 = pid + 1;       // uint32 + int64
				$pidcpu = pid + cpu;   // uint32 + uint32
				$ns1 = nsecs + 1;      // uint64 + int64
				$ns2 = 1 - nsecs;      // int64 - uint64
				$cast = (uint64)1 * -1;
				$ptr = args.filename + 1;
				$neg = -pid;
				$not = !pid;
				$inv = ~(uint8)1;
				$mix = (int8)1 + (uint16)2;
				$paren = (pid);
			}`,
			types: map[string]string{
				"$pid1": "int64", "$pidcpu": "int64", "$ns1": "uint64", "$ns2": "uint64",
				"$cast": "uint64", "$ptr": "uint64", "$neg": "int64", "$not": "uint64",
				"$inv": "int64", "$mix": "int64", "$paren": "uint32",
			},
			consts:  map[string]int64{"$cast": -1, "$inv": -2, "$mix": 3},
			noConst: []string{"$pid1", "$ns1", "$neg", "$not", "$paren"},
		},
		{
			name: "constant arithmetic",
			src: `BEGIN {
				$add = 2 + 3 * 4; $div = -7 / 2; $mod = -7 % 3; $shl = 1 << 10; $sar = -16 >> 2;
				$and = 6 & 3; $or = 6 | 3; $xor = 6 ^ 3; $land = 2 && 0; $lor = 0 || 3;
				$udiv = ` + u64max + ` / 2; $umod = ` + u64max + ` % 10; $ushr = ` + u64max + ` >> 60;
				$paren = (1 + 2) * 3;
			}`,
			types: map[string]string{
				"$add": "int64", "$div": "int64", "$sar": "int64", "$land": "uint64",
				"$udiv": "uint64", "$umod": "uint64", "$ushr": "uint64", "$paren": "int64",
			},
			consts: map[string]int64{
				"$add": 14, "$div": -3, "$mod": -1, "$shl": 1024, "$sar": -4,
				"$and": 2, "$or": 7, "$xor": 5, "$land": 0, "$lor": 1,
				// A uint64 operand makes /, % and >> unsigned, as in the
				// generated code.
				"$udiv": math.MaxInt64, "$umod": 5, "$ushr": 15,
				"$paren": 9,
			},
		},
		{
			name: "comparisons",
			src: `tracepoint:syscalls:sys_enter_openat {
				$eq = pid == 1; $ne = pid != 1; $lt = nsecs < 5; $ge = cpu >= 2;
				$streq = comm == "bash"; $strne = "a" != str(args.filename);
				$ptr = args.filename != 0;
				$c1 = 1 < 2; $c2 = -1 < 1; $c3 = ` + u64max + ` > 1; $c4 = -1 < (uint64)1; $c5 = 3 == 3;
			}`,
			types: map[string]string{
				"$eq": "uint64", "$ne": "uint64", "$lt": "uint64", "$ge": "uint64",
				"$streq": "uint64", "$strne": "uint64", "$ptr": "uint64", "$c1": "uint64",
			},
			// Comparisons involving a uint64 compare unsigned: -1 is the
			// largest uint64.
			consts:  map[string]int64{"$c1": 1, "$c2": 1, "$c3": 1, "$c4": 0, "$c5": 1},
			noConst: []string{"$eq", "$streq"},
		},
		{
			name: "casts fold constants",
			src: `BEGIN {
				$u8 = (uint8)300; $i8 = (int8)255; $u16 = (uint16)-1; $i16 = (int16)40000;
				$u32 = (uint32)-1; $i32 = (int32)` + u64max + `; $u64 = (uint64)-1; $i64 = (int64)` + u64max + `;
				$b = (bool)5; $b0 = (bool)0; $nested = (uint8)(int16)-1; $pid = (int16)pid;
			}`,
			types: map[string]string{
				"$u8": "uint8", "$i8": "int8", "$u16": "uint16", "$i16": "int16",
				"$u32": "uint32", "$i32": "int32", "$u64": "uint64", "$i64": "int64",
				"$b": "uint8", "$nested": "uint8", "$pid": "int16",
			},
			consts: map[string]int64{
				"$u8": 44, "$i8": -1, "$u16": 65535, "$i16": -25536,
				"$u32": 4294967295, "$i32": -1, "$u64": -1, "$i64": -1,
				"$b": 1, "$b0": 0, "$nested": 255,
			},
			noConst: []string{"$pid"},
		},
		{
			name: "strings",
			src: `tracepoint:syscalls:sys_enter_openat {
				$comm = comm; $s = str(args.filename); $sn = str(args.filename, 8);
				$lit = "hello"; $tern = pid ? "a" : "bcd"; $tern2 = pid ? comm : $s;
				$strstr = str(comm);
			}`,
			types: map[string]string{
				"$comm": "string[16]", "$s": "string[64]", "$sn": "string[64]",
				"$lit": "string[6]", "$tern": "string[4]", "$tern2": "string[64]",
				"$strstr": "string[16]",
			},
			strs: map[string]string{"$lit": "hello"},
		},
		{
			name:   "positional parameters",
			params: []string{"42", "bash", "0x10", "-3"},
			src: `BEGIN {
				$one = $1; $two = $2; $three = $3; $four = $4; $missing = $9; $count = $#;
				$sum = $1 + $3;
			}`,
			types: map[string]string{
				"$one": "int64", "$two": "string[5]", "$three": "int64", "$four": "int64",
				"$missing": "int64", "$count": "int64", "$sum": "int64",
			},
			consts: map[string]int64{"$one": 42, "$three": 16, "$four": -3, "$missing": 0, "$count": 4, "$sum": 58},
			strs:   map[string]string{"$two": "bash"},
		},
		{
			name: "positional count without parameters",
			src:  `BEGIN { $count = $#; $one = $1; }`,
			types: map[string]string{
				"$count": "int64", "$one": "int64",
			},
			consts: map[string]int64{"$count": 0, "$one": 0},
		},
		{
			name: "builtin variables",
			src: `tracepoint:syscalls:sys_enter_openat {
				$pid = pid; $tid = tid; $uid = uid; $gid = gid; $nsecs = nsecs; $cpu = cpu;
				$elapsed = elapsed; $comm = comm;
			}`,
			types: map[string]string{
				"$pid": "uint32", "$tid": "uint32", "$uid": "uint32", "$gid": "uint32",
				"$nsecs": "uint64", "$cpu": "uint32", "$elapsed": "uint64", "$comm": "string[16]",
			},
		},
		{
			name: "raw tracepoint arguments",
			src:  `rawtracepoint:sched_switch { $a0 = arg0; $a9 = arg9; }`,
			types: map[string]string{
				"$a0": "uint64", "$a9": "uint64",
			},
		},
		{
			name: "tracepoint args of syscalls",
			src: `tracepoint:syscalls:sys_enter_openat {
				$filename = args.filename; $dfd = args.dfd; $flags = args.flags; $mode = args->mode;
				$nr = args.__syscall_nr;
			}`,
			types: map[string]string{
				// Syscall pointers are user memory; other fields keep the
				// format file's size and signedness.
				"$filename": "int8 * (user)", "$dfd": "uint64", "$flags": "uint64", "$mode": "uint64",
				"$nr": "int32",
			},
		},
		{
			name: "tracepoint args of sched_switch",
			src: `tracepoint:sched:sched_switch {
				$prev = args.prev_comm; $pid = args.prev_pid; $prio = args.next_prio; $state = args.prev_state;
			}`,
			types: map[string]string{
				"$prev": "string[16]", "$pid": "int32", "$prio": "int32", "$state": "int64",
			},
		},
		{
			name: "tracepoint __data_loc string",
			src:  `tracepoint:sched:sched_process_exec { $filename = args.filename; $pid = args.pid; }`,
			types: map[string]string{
				"$filename": "string[64]", "$pid": "int32",
			},
		},
		{
			name: "tracepoint arrays and kernel pointers",
			src: `tracepoint:sock:inet_sock_set_state { $b = args.saddr[1]; $sk = args.skaddr; $port = args.sport; }
			tracepoint:raw_syscalls:sys_enter { $arg = args.args[5]; $id = args.id; }
			tracepoint:percpu:percpu_alloc_percpu { $reserved = args.reserved; $ptr = args.ptr; }`,
			types: map[string]string{
				"$b": "uint8", "$sk": "uint8 * (kernel)", "$port": "uint16",
				"$arg": "uint64", "$id": "int64",
				"$reserved": "uint8", "$ptr": "uint8 * (kernel)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog, info := checkOK(t, tt.src, tt.params...)
			exprs := assigned(prog)
			get := func(v string) ast.Expr {
				t.Helper()
				e, ok := exprs[v]
				if !ok {
					t.Fatalf("the script does not assign %s", v)
				}
				return e
			}
			for v, want := range tt.types {
				if got := typeString(info.TypeOf(get(v))); got != want {
					t.Errorf("type of %s's value = %s, want %s", v, got, want)
				}
			}
			for v, want := range tt.consts {
				got, ok := info.Consts[get(v)]
				if !ok {
					t.Errorf("%s's value is not a constant, want %d", v, want)
				} else if got != want {
					t.Errorf("%s's value = %d, want %d", v, got, want)
				}
			}
			for _, v := range tt.noConst {
				if got, ok := info.Consts[get(v)]; ok {
					t.Errorf("%s's value is the constant %d, want a run-time value", v, got)
				}
			}
			for v, want := range tt.strs {
				if got, ok := info.Strings[get(v)]; !ok || got != want {
					t.Errorf("%s's string value = %q (known: %v), want %q", v, got, ok, want)
				}
			}
		})
	}
}

// TestVarTypes checks the types of scratch variables, which widen
// integers to 64 bits and merge strings to the largest buffer.
func TestVarTypes(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want map[string]string // one probe: $var -> type
	}{
		{
			name: "integers widen keeping their sign",
			src:  `tracepoint:sched:sched_switch { $p = pid; $n = nsecs; $i = 1; $s = args.prev_pid; $u8 = (uint8)1; }`,
			want: map[string]string{"$p": "uint64", "$n": "uint64", "$i": "int64", "$s": "int64", "$u8": "uint64"},
		},
		{
			name: "strings merge to the largest buffer",
			src:  `tracepoint:syscalls:sys_enter_openat { $s = "a"; $s = comm; $t = comm; $t = str(args.filename); $t = "x"; }`,
			want: map[string]string{"$s": "string[16]", "$t": "string[64]"},
		},
		{
			name: "pointers and probe names",
			src:  `tracepoint:syscalls:sys_enter_openat { $f = args.filename; $p = probe; }`,
			want: map[string]string{"$f": "int8 * (user)", "$p": "probe"},
		},
		{
			name: "increment creates an integer",
			src:  `BEGIN { $i++; $j = 1; $j += 2; }`,
			want: map[string]string{"$i": "int64", "$j": "int64"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, info := checkOK(t, tt.src)
			if len(info.Probes) != 1 {
				t.Fatalf("got %d probes, want 1", len(info.Probes))
			}
			vars := map[string]*types.Type{}
			for _, v := range info.Probes[0].Vars {
				vars[v.Name] = v.Type
			}
			for v, want := range tt.want {
				if got := typeString(vars[v]); got != want {
					t.Errorf("%s is %s, want %s", v, got, want)
				}
			}
			if len(vars) != len(tt.want) {
				t.Errorf("probe has variables %v, want %d", vars, len(tt.want))
			}
		})
	}
}

// TestMapTypes checks the key and value types recorded for maps.
func TestMapTypes(t *testing.T) {
	type mapType struct{ key, value string }
	none := "<nil>" // no key
	tests := []struct {
		name   string
		params []string
		src    string
		want   map[string]mapType
	}{
		{
			name: "scalar values",
			src:  `tracepoint:syscalls:sys_enter_openat { @n = 1; @u = nsecs; @s = comm; @p = args.filename; @pr = probe; @i++; @j += 5; }`,
			want: map[string]mapType{
				"@n": {none, "int64"}, "@u": {none, "uint64"}, "@s": {none, "string[16]"},
				"@p": {none, "int8 * (user)"}, "@pr": {none, "probe"}, "@i": {none, "int64"}, "@j": {none, "int64"},
			},
		},
		{
			name: "keys widen like values",
			src:  `tracepoint:sched:sched_switch { @a[pid] = 1; @b[args.prev_pid] = 1; @c[comm] = 1; @d[args.next_comm] = 1; @e[probe] = 1; @f[1] = 1; }`,
			want: map[string]mapType{
				"@a": {"uint64", "int64"}, "@b": {"int64", "int64"}, "@c": {"string[16]", "int64"},
				"@d": {"string[16]", "int64"}, "@e": {"probe", "int64"}, "@f": {"int64", "int64"},
			},
		},
		{
			name: "key tuples",
			src:  `tracepoint:syscalls:sys_enter_openat { @[pid, comm] = count(); @t[comm, pid, str(args.filename)] = 1; }`,
			want: map[string]mapType{
				"@":  {"(uint64, string[16])", "count()"},
				"@t": {"(string[16], uint64, string[64])", "int64"},
			},
		},
		{
			name: "string keys merge across probes",
			src: `tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }
			      tracepoint:syscalls:sys_enter_open { @[str(args.filename)] = count(); }`,
			want: map[string]mapType{"@": {"string[64]", "count()"}},
		},
		{
			name: "string keys merge whichever probe comes first",
			src: `tracepoint:syscalls:sys_enter_open { @[str(args.filename)] = count(); }
			      tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }`,
			want: map[string]mapType{"@": {"string[64]", "count()"}},
		},
		{
			name: "tuple keys merge element-wise",
			src:  `tracepoint:syscalls:sys_enter_openat { @x[comm, 1] = 1; @x[str(args.filename), pid] = 2; }`,
			want: map[string]mapType{"@x": {"(string[64], int64)", "int64"}},
		},
		{
			name: "string values merge",
			src:  `tracepoint:syscalls:sys_enter_openat { @last = comm; } tracepoint:syscalls:sys_enter_open { @last = str(args.filename); }`,
			want: map[string]mapType{"@last": {none, "string[64]"}},
		},
		{
			name: "aggregations",
			src: `tracepoint:syscalls:sys_exit_read {
				@count = count(); @sum = sum(args.ret); @avg = avg(args.ret); @min = min(args.ret);
				@max = max(args.ret); @stats = stats(args.ret); @hist = hist(args.ret);
				@lhist = lhist(args.ret, 0, 1000, 100); @byc[comm] = count(); @hk[pid, comm] = hist(args.ret);
				@h0 = hist(args.ret, 0);
			}`,
			want: map[string]mapType{
				"@count": {none, "count()"}, "@sum": {none, "sum()"}, "@avg": {none, "avg()"},
				"@min": {none, "min()"}, "@max": {none, "max()"}, "@stats": {none, "stats()"},
				"@hist": {none, "hist()"}, "@lhist": {none, "lhist()[0,1000,100]"},
				"@byc": {"string[16]", "count()"}, "@hk": {"(uint64, string[16])", "hist()"},
				"@h0": {none, "hist()"},
			},
		},
		{
			name:   "lhist bounds from parameters",
			params: []string{"10", "20"},
			src:    `BEGIN { @l = lhist(5, $1, $1 * 10, $2 / 2); }`,
			want:   map[string]mapType{"@l": {none, "lhist()[10,100,10]"}},
		},
		{
			name: "a map read in an earlier probe than its assignment",
			src:  `BEGIN { printf("%d\n", @late); } END { @late = 1; }`,
			want: map[string]mapType{"@late": {none, "int64"}},
		},
		{
			name: "delete and clear",
			src:  `BEGIN { @m[1, "a"] = 1; delete(@m, (1, "a")); delete(@m[2, "b"]); @k[1] = 1; delete(@k, 1); clear(@m); zero(@k); }`,
			want: map[string]mapType{"@m": {"(int64, string[2])", "int64"}, "@k": {"int64", "int64"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, info := checkOK(t, tt.src, tt.params...)
			for name, want := range tt.want {
				m := info.Map(name)
				if m == nil {
					t.Errorf("no map %s", name)
					continue
				}
				if got := typeString(m.Key); got != want.key {
					t.Errorf("%s key = %s, want %s", name, got, want.key)
				}
				if got := typeString(m.Value); got != want.value {
					t.Errorf("%s value = %s, want %s", name, got, want.value)
				}
			}
			if len(info.Maps) != len(tt.want) {
				var names []string
				for _, m := range info.Maps {
					names = append(names, m.Name)
				}
				t.Errorf("maps = %v, want %d", names, len(tt.want))
			}
		})
	}
}

// TestMapOrder checks that Info.Maps lists maps in order of first
// appearance, with the position of that appearance.
func TestMapOrder(t *testing.T) {
	_, info := checkOK(t, "BEGIN { @b = 1; @a = 2; }\nEND { @c = @a; @b = 3; }")
	var got []string
	for _, m := range info.Maps {
		got = append(got, m.Name+"@"+m.Pos.String())
	}
	want := []string{"@b@1:9", "@a@1:17", "@c@2:7"}
	if !slices.Equal(got, want) {
		t.Errorf("maps = %v, want %v", got, want)
	}
}

// TestReadAggregation checks that count, sum, min and max maps read as
// int64 values.
func TestReadAggregation(t *testing.T) {
	prog, info := checkOK(t, `BEGIN { @c = count(); @s = sum(1); @mn = min(1); @mx = max(1);
		$c = @c; $s = @s + 1; $mn = @mn; $mx = @mx; }`)
	exprs := assigned(prog)
	for _, v := range []string{"$c", "$s", "$mn", "$mx"} {
		if got := typeString(info.TypeOf(exprs[v])); got != "int64" {
			t.Errorf("%s = %s, want int64", v, got)
		}
	}
}

// TestProbeTargets checks how attach points resolve, wildcards included.
func TestProbeTargets(t *testing.T) {
	tests := []struct {
		src  string
		want [][]string // per probe, the target names
	}{
		{
			src:  `BEGIN { } END { }`,
			want: [][]string{{"BEGIN"}, {"END"}},
		},
		{
			src:  `tracepoint:syscalls:sys_enter_openat { }`,
			want: [][]string{{"tracepoint:syscalls:sys_enter_openat"}},
		},
		{
			src:  `t:syscalls:sys_enter_openat { }`,
			want: [][]string{{"tracepoint:syscalls:sys_enter_openat"}},
		},
		{
			src: `tracepoint:syscalls:sys_enter_open* { @[probe] = count(); }`,
			want: [][]string{{
				"tracepoint:syscalls:sys_enter_open",
				"tracepoint:syscalls:sys_enter_openat",
				"tracepoint:syscalls:sys_enter_openat2",
			}},
		},
		{
			src: `tracepoint:sched:* { }`,
			want: [][]string{{
				"tracepoint:sched:sched_process_exec",
				"tracepoint:sched:sched_switch",
				"tracepoint:sched:sched_wakeup",
			}},
		},
		{
			src: `tracepoint:syscalls:sys_exit_open*, tracepoint:syscalls:sys_enter_read { }`,
			want: [][]string{{
				"tracepoint:syscalls:sys_exit_open",
				"tracepoint:syscalls:sys_exit_openat",
				"tracepoint:syscalls:sys_enter_read",
			}},
		},
		{
			src: `tracepoint:*:sys_enter* { }`,
			want: [][]string{{
				"tracepoint:raw_syscalls:sys_enter",
				"tracepoint:syscalls:sys_enter_mq_open",
				"tracepoint:syscalls:sys_enter_open",
				"tracepoint:syscalls:sys_enter_openat",
				"tracepoint:syscalls:sys_enter_openat2",
				"tracepoint:syscalls:sys_enter_read",
			}},
		},
		{
			src:  `rawtracepoint:sched_switch { } rt:raw_syscalls:sys_exit { }`,
			want: [][]string{{"rawtracepoint:sched:sched_switch"}, {"rawtracepoint:raw_syscalls:sys_exit"}},
		},
		{
			src:  `interval:s:1 { } profile:hz:99 { } software:page-faults:100 { }`,
			want: [][]string{{"interval:s:1"}, {"profile:hz:99"}, {"software:page-faults:100"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, info := checkOK(t, tt.src)
			var got [][]string
			for _, p := range info.Probes {
				var names []string
				for _, tg := range p.Targets {
					names = append(names, tg.Name)
				}
				got = append(got, names)
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("targets = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestWildcardArgs checks that a field read through a wildcard probe has
// one type that holds in every target.
func TestWildcardArgs(t *testing.T) {
	prog, info := checkOK(t, `tracepoint:syscalls:sys_enter_open* { $f = args.filename; }`)
	if n := len(info.Probes[0].Targets); n != 3 {
		t.Fatalf("got %d targets, want 3", n)
	}
	exprs := assigned(prog)
	if got := typeString(info.TypeOf(exprs["$f"])); got != "int8 * (user)" {
		t.Errorf("args.filename = %s, want int8 * (user)", got)
	}
	for _, tg := range info.Probes[0].Targets {
		f, ok := tg.Args.Field("filename")
		if !ok {
			t.Errorf("%s has no filename field", tg.Name)
			continue
		}
		if got := typeString(f.Type); got != "int8 * (user)" {
			t.Errorf("%s: filename is %s", tg.Name, got)
		}
	}
}

// TestResolutions checks the side tables that resolve names: builtin
// variables, functions and printf formats.
func TestResolutions(t *testing.T) {
	prog, info := checkOK(t, `tracepoint:syscalls:sys_enter_openat { printf("%s %d\n", comm, pid); @[comm] = count(); $s = str(args.filename); }`)
	var idents []string
	var calls []string
	ast.Inspect(prog.Probes[0], func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			if v := info.Vars[n]; v != nil {
				idents = append(idents, v.Name)
			}
		case *ast.Call:
			if f := info.Funcs[n]; f != nil {
				calls = append(calls, f.Name)
			}
			if p := info.Printf[n]; p != nil && len(p.Args()) != 2 {
				t.Errorf("printf format has %d conversions, want 2", len(p.Args()))
			}
		}
		return true
	})
	// args is the probe context, not a library variable.
	if want := []string{"comm", "pid", "comm"}; !slices.Equal(idents, want) {
		t.Errorf("resolved variables = %v, want %v", idents, want)
	}
	if want := []string{"printf", "count", "str"}; !slices.Equal(calls, want) {
		t.Errorf("resolved functions = %v, want %v", calls, want)
	}
	if len(info.Printf) != 1 {
		t.Errorf("got %d printf formats, want 1", len(info.Printf))
	}
}

// TestEnvIsConsulted makes sure tracepoints are resolved through
// Config.Env, never the live tracefs.
func TestEnvIsConsulted(t *testing.T) {
	conf := testConfig(t)
	src := &countingSource{TracepointSource: conf.Env.Tracepoints}
	conf.Env.Tracepoints = src
	_, prog := parse(t, "env.gt", `tracepoint:syscalls:sys_enter_openat { }`)
	if _, err := check.Check(nil, prog, conf); err != nil {
		t.Fatal(err)
	}
	if src.match == 0 || src.format == 0 {
		t.Errorf("Match called %d times, Format %d times; want both used", src.match, src.format)
	}
}
