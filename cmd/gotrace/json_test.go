package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// jsonLines parses output that must be newline-delimited JSON: every line
// one object, read with encoding/json (numbers as json.Number, so that
// large integers compare exactly).
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	if out != "" && !strings.HasSuffix(out, "\n") {
		t.Errorf("output does not end with a newline: %q", out)
	}
	var recs []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if out == "" {
			break
		}
		d := json.NewDecoder(strings.NewReader(line))
		d.UseNumber()
		var rec map[string]any
		if err := d.Decode(&rec); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, line)
		}
		if d.More() {
			t.Fatalf("line %d holds more than one JSON value: %s", i+1, line)
		}
		if _, ok := rec["type"].(string); !ok {
			t.Errorf("line %d has no type: %s", i+1, line)
		}
		recs = append(recs, rec)
	}
	return recs
}

// allRecords is a script that makes every kind of record gotrace writes
// in JSON, with strings that need escaping: quotes, newlines, a control
// byte, UTF-8 and an invalid byte (\xff).
const allRecords = `BEGIN {
  printf("q\"uote\nnl\x01 é \xff\n");
  print((1, "x\"y"));
  print(-5);
  @big = (uint64)18446744073709551615;
  @above53 = (uint64)9007199254740993;
  @c["a b"] = count(); @c["q\"k"] = count(); @c["q\"k"] = count();
  @s = sum(5); @st = stats(3); @a = avg(4); @am[1, "x"] = avg(6);
  @h = hist(5); @l = lhist(3, 0, 10, 2);
  @str = "x\"\n\xff";
  @t = (1, "a");
  @r = (a = 1, b = "z");
  print(@c);
  print(@h);
  time("%Y\n");
  cat("%s", str($1));
  system("echo sys\\\"out");
  errorf("bad %d", 1);
  warnf("careful \"%s\"", "x");
  exit(3);
}
END { printf("end\n"); }
`

// allRecordsJSON is allRecords' output; the time record's data is
// replaced by "TIME".
const allRecordsJSON = `{"type": "attached_probes", "count": 2, "data": {"probes": 2}}
{"type": "printf", "data": "q\"uote\nnl\u0001 é \u00ff\n"}
{"type": "value", "data": [1,"x\"y"]}
{"type": "value", "data": -5}
{"type": "map", "data": {"@c": {"a b": 1, "q\"k": 2}}}
{"type": "hist", "data": {"@h": [{"min": 4, "max": 7, "count": 1}]}}
{"type": "time", "data": "TIME"}
{"type": "cat", "data": "line \"1\"\n\u00ff\u0001end"}
{"type": "syscall", "data": "sys\"out\n"}
{"type": "errorf", "msg": "bad 1", "filename": "FILE:all.gt", "line": 18, "col": 3}
{"type": "warnf", "msg": "careful \"x\"", "filename": "FILE:all.gt", "line": 19, "col": 3}
{"type": "printf", "data": "end\n"}
{"type": "stats", "data": {"@a": 4}}
{"type": "map", "data": {"@above53": 9007199254740993}}
{"type": "stats", "data": {"@am": {"1,x": 6}}}
{"type": "map", "data": {"@big": 18446744073709551615}}
{"type": "map", "data": {"@c": {"a b": 1, "q\"k": 2}}}
{"type": "hist", "data": {"@h": [{"min": 4, "max": 7, "count": 1}]}}
{"type": "hist", "data": {"@l": [{"min": 2, "max": 3, "count": 1}]}}
{"type": "map", "data": {"@r": {"a": 1, "b": "z"}}}
{"type": "map", "data": {"@s": 5}}
{"type": "stats", "data": {"@st": {"count": 1, "average": 3, "total": 3}}}
{"type": "map", "data": {"@str": "x\"\n\u00ff"}}
{"type": "map", "data": {"@t": [1,"a"]}}
`

// TestJSONRecords checks the exact JSON of every record type, and that
// encoding/json reads it back to the values the script printed: strings
// with quotes, newlines, control and invalid bytes, and integers above
// 2^53 exactly.
func TestJSONRecords(t *testing.T) {
	kerneltest.Require(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "all.gt")
	catFile := filepath.Join(dir, "catme")
	if err := os.WriteFile(script, []byte(allRecords), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(catFile, []byte("line \"1\"\n\xff\x01end"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := gotrace(t, "", "--unsafe", "-f", "json", script, catFile)
	timeRecord := regexp.MustCompile(`(?m)^\{"type": "time", "data": "\d{4}\\n"\}$`)
	got := timeRecord.ReplaceAllString(r.stdout, `{"type": "time", "data": "TIME"}`)
	want := strings.ReplaceAll(allRecordsJSON, "FILE:all.gt", script)
	if got != want {
		t.Errorf("stdout differs: %s", diff(got, want))
	}
	if r.stderr != "" || r.status != 3 {
		t.Fatalf("stderr %q, status %d; want nothing and 3", r.stderr, r.status)
	}

	recs := jsonLines(t, r.stdout)
	byType := map[string][]map[string]any{}
	maps := map[string]any{}
	for _, rec := range recs {
		typ := rec["type"].(string)
		byType[typ] = append(byType[typ], rec)
		if data, ok := rec["data"].(map[string]any); ok && (typ == "map" || typ == "hist" || typ == "stats") {
			for k, v := range data {
				maps[k] = v
			}
		}
	}
	for _, typ := range []string{"attached_probes", "printf", "value", "map", "hist", "stats", "time", "cat", "syscall", "errorf", "warnf"} {
		if len(byType[typ]) == 0 {
			t.Errorf("no %s record", typ)
		}
	}
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded %#v, want %#v", what, got, want)
		}
	}
	// An invalid byte b reads back as U+00b.
	check("printf", byType["printf"][0]["data"], "q\"uote\nnl\x01 é \u00ff\n")
	check("@str", maps["@str"], "x\"\n\u00ff")
	check("cat", byType["cat"][0]["data"], "line \"1\"\n\u00ff\x01end")
	check("syscall", byType["syscall"][0]["data"], "sys\"out\n")
	check("@c", maps["@c"], map[string]any{"a b": json.Number("1"), `q"k`: json.Number("2")})
	check("value", byType["value"][0]["data"], []any{json.Number("1"), `x"y`})
	check("@r", maps["@r"], map[string]any{"a": json.Number("1"), "b": "z"})
	check("warnf", byType["warnf"][0]["msg"], `careful "x"`)
	for name, want := range map[string]uint64{"@big": math.MaxUint64, "@above53": 1<<53 + 1} {
		n, ok := maps[name].(json.Number)
		if !ok {
			t.Errorf("%s: %#v is not a number", name, maps[name])
			continue
		}
		u, err := strconv.ParseUint(string(n), 10, 64)
		if err != nil || u != want {
			t.Errorf("%s = %s, parsed as %d (%v); want exactly %d", name, n, u, err, want)
		}
	}
}

// TestJSONAttached checks the attached_probes record, written to stdout
// in JSON (not to stderr), and left out with -q.
func TestJSONAttached(t *testing.T) {
	runCases(t, []cliCase{
		{
			name:       "attached",
			args:       []string{"-f", "json", "-e", `BEGIN { exit(); } END { }`},
			stdout:     `{"type": "attached_probes", "count": 2, "data": {"probes": 2}}` + "\n",
			needKernel: true,
		},
		{
			name:       "quiet",
			args:       []string{"-q", "-fjson", "-e", `BEGIN { printf("x"); exit(); }`},
			stdout:     `{"type": "printf", "data": "x"}` + "\n",
			needKernel: true,
		},
		{
			name:       "text",
			args:       []string{"-f", "text", "-e", `BEGIN { printf("x"); exit(); }`},
			stdout:     "x\n\n",
			stderr:     "Attached 1 probe\n",
			needKernel: true,
		},
		{
			name:   "bad format",
			args:   []string{"-f", "jsonx", "-e", hello},
			stderr: "gotrace: invalid output format \"jsonx\" (valid: text, json)\n\n" + readTestdata(t, "usage.txt"),
			status: 2,
		},
	})
}

// TestJSONHelperError checks -k's reports of failed reads, in JSON and in
// text: reading address 0 fails (the kernel's errno varies: EFAULT or
// ERANGE).
func TestJSONHelperError(t *testing.T) {
	kerneltest.Require(t)
	script := `BEGIN { printf("[%s]\n", str(0)); exit(); }`
	r := gotrace(t, "", "-k", "-q", "-f", "json", "-e", script)
	recs := jsonLines(t, r.stdout)
	if len(recs) != 2 || r.status != 0 || r.stderr != "" {
		t.Fatalf("got %d records, status %d, stderr %q:\n%s", len(recs), r.status, r.stderr, r.stdout)
	}
	he := recs[1]
	ret, err := strconv.ParseInt(string(he["retcode"].(json.Number)), 10, 64)
	if err != nil || ret >= 0 {
		t.Fatalf("retcode %v", he["retcode"])
	}
	errno := unix.Errno(-ret).Error()
	msg := strings.ToUpper(errno[:1]) + errno[1:]
	want := map[string]any{
		"type": "helper_error", "msg": msg, "helper": "probe_read_kernel_str",
		"retcode": he["retcode"], "filename": "-e", "line": json.Number("1"), "col": json.Number("26"),
	}
	if !reflect.DeepEqual(he, want) {
		t.Errorf("helper_error record %v, want %v", he, want)
	}

	r = gotrace(t, "", "-k", "-q", "-e", script)
	wantStderr := "-e:1:26: WARNING: Failed to probe_read_kernel_str: " + msg + " (" + strconv.FormatInt(ret, 10) + ")\n" +
		script + "\n" + strings.Repeat(" ", 25) + "^\n"
	r.check(t, "[]\n\n\n", wantStderr, 0)

	// Without -k nothing is checked, or reported.
	gotrace(t, "", "-q", "-e", script).check(t, "[]\n\n\n", "", 0)
}

// TestJSONLostEvents checks that records the ring buffer had no room for
// are reported: a lost_events record, and the count on stderr.
func TestJSONLostEvents(t *testing.T) {
	kerneltest.Require(t)
	// One page of ring buffer holds far fewer than 2000 records.
	script := `config = { perf_rb_pages = 1 }
BEGIN { $i = 0; while ($i < 2000) { printf("%d\n", $i); $i++; } }
interval:ms:100 { exit(); }`
	r := gotrace(t, "", "-q", "-f", "json", "-e", script)
	recs := jsonLines(t, r.stdout)
	printed, lost := 0, ""
	for _, rec := range recs {
		switch rec["type"] {
		case "printf":
			printed++
		case "lost_events":
			n := rec["count"].(json.Number)
			if !reflect.DeepEqual(rec["data"], map[string]any{"events": n}) {
				t.Errorf("lost_events record %v", rec)
			}
			lost = string(n)
		}
	}
	n, err := strconv.Atoi(lost)
	if err != nil || n == 0 || printed+n != 2000 {
		t.Errorf("%d printf records, %q lost; want 2000 in all", printed, lost)
	}
	if r.stderr != "Lost "+lost+" events\n" || r.status != 0 {
		t.Errorf("stderr %q, status %d", r.stderr, r.status)
	}
}

// TestJSONJoinAndCommand checks the join record, with -c and -o: the JSON
// goes to the file, the command's own output to stdout.
func TestJSONJoinAndCommand(t *testing.T) {
	kerneltest.Require(t)
	out := filepath.Join(t.TempDir(), "out.json")
	// The command's own execve is traced.
	r := gotrace(t, "", "-q", "-f", "json", "-o", out, "-c", "/bin/echo joined args",
		"-e", `tracepoint:syscalls:sys_enter_execve /pid == cpid/ { join(args.argv); }`)
	r.check(t, "joined args\n", "", 0)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"type": "join", "data": "/bin/echo joined args"}`+"\n"; got != want {
		t.Errorf("file: %s", diff(got, want))
	}
}

// TestJSONSameAsBpftrace compares gotrace's JSON with that of the
// installed bpftrace (0.17 in CI) for scripts whose records the two lay
// out alike, record by record, as encoding/json reads them: bpftrace 0.17
// spaces some arrays differently, writes blank lines after the END output,
// and orders the keys of equal values as its hash table does.
func TestJSONSameAsBpftrace(t *testing.T) {
	kerneltest.Require(t)
	bpftrace, err := exec.LookPath("bpftrace")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("bpftrace is not installed; .ci/run installs it")
		}
		t.Skip("bpftrace is not installed (apt-get install bpftrace)")
	}
	scripts := map[string]string{
		"maps": `BEGIN { @c["a"] = count(); @c["b"] = count(); @c["b"] = count(); @s = sum(5); @neg = -3; @str = "hi \"x\"";
			@t = (1, "a"); @k[1, "b"] = 3; @mn = min(-4); @mx = max(9); print(@c); print(@c, 1); exit(); }`,
		"stats": `BEGIN { @st = stats(3); @st = stats(10); @a = avg(4); @am["x"] = avg(6); @am["y"] = avg(2); exit(); }`,
		"hist": `BEGIN { @h = hist(5); @h = hist(1025); @h = hist(-1); @h = hist(0); @hk["k"] = hist(3); @hk["j"] = hist(300);
			@l = lhist(3, 0, 10, 2); @l = lhist(-3, 0, 10, 2); @l = lhist(30, 0, 10, 2); print(@h); exit(); }`,
		"values": `BEGIN { print((1, "x")); print(5); print("s\"\t"); printf("p \"q\"\n\t\\"); exit(); } END { printf("end\n"); }`,
	}
	for name, script := range scripts {
		t.Run(name, func(t *testing.T) {
			r := gotrace(t, "", "-q", "-f", "json", "-e", script)
			if r.status != 0 || r.stderr != "" {
				t.Fatalf("gotrace: status %d, stderr %q", r.status, r.stderr)
			}
			cmd := exec.Command(bpftrace, "-q", "-f", "json", "-e", script)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			b, err := cmd.Output()
			if err != nil {
				t.Fatalf("bpftrace: %v\n%s", err, stderr.String())
			}
			var lines []string
			for _, l := range strings.Split(string(b), "\n") {
				if l != "" {
					lines = append(lines, l)
				}
			}
			got, want := jsonLines(t, r.stdout), jsonLines(t, strings.Join(lines, "\n")+"\n")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("records differ\n--- gotrace\n%s--- bpftrace\n%s", r.stdout, b)
			}
		})
	}
}

// TestLostExit checks that a run ends when exit()'s own record is lost to
// a full ring buffer, saying so, instead of going on until Ctrl-C.
func TestLostExit(t *testing.T) {
	kerneltest.Require(t)
	r := gotrace(t, "", "-q", "-e", `config = { perf_rb_pages = 1 }
BEGIN { $i = 0; while ($i < 2000) { printf("%d\n", $i); $i++; } exit(); }`)
	m := regexp.MustCompile(`^Lost (\d+) events\nWARNING: exit\(\) was called but the ring buffer was full: its record, and the exit status, were lost\n$`).FindStringSubmatch(r.stderr)
	if m == nil || r.status != 0 {
		t.Fatalf("status %d, stderr %q", r.status, r.stderr)
	}
	lost, _ := strconv.Atoi(m[1])
	if printed := strings.Count(r.stdout, "\n") - 2; printed+lost != 2001 {
		t.Errorf("%d lines printed and %d records lost; want 2001 records (2000 printf, 1 exit)", printed, lost)
	}
}
