package main

import (
	"reflect"
	"testing"

	"github.com/gotrace/gotrace/runtime"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args []string
		want options
	}{
		{[]string{"-f", "json", "-e", "P"}, options{program: "P", format: runtime.JSONFormat}},
		{[]string{"-fjson", "-otrace.out", "-Bline", "-e", "P"}, options{program: "P", format: runtime.JSONFormat, output: "trace.out", buffer: runtime.BufferLine}},
		{[]string{"-o", "f", "-B", "none", "-f", "text", "s.gt"}, options{file: "s.gt", output: "f", buffer: runtime.BufferNone}},
		{[]string{"-B", "full", "-e", "P"}, options{program: "P", buffer: runtime.BufferFull}},
		{[]string{"-qvk", "-e", "P"}, options{program: "P", quiet: true, verbose: true, helpers: true}},
		{[]string{"-q", "-v", "-k", "-e", "P"}, options{program: "P", quiet: true, verbose: true, helpers: true}},
		{[]string{"-c", "ls -l /", "-e", "P"}, options{program: "P", command: "ls -l /"}},
		{[]string{"-p", "42", "-e", "P"}, options{program: "P", pid: 42}},
		{[]string{"-p42", "s.gt", "1"}, options{file: "s.gt", params: []string{"1"}, pid: 42}},
		{[]string{"--dry-run", "-e", "P"}, options{program: "P", dryRun: true}},
		{[]string{"--verify", "-e", "P"}, options{program: "P", verify: true}},
		{[]string{"--info"}, options{info: true}},
		{[]string{"-d", "-e", "P"}, options{program: "P", dump: []string{"ast", "codegen", "verifier"}}},
		{[]string{"-d", "all", "-e", "P"}, options{program: "P", dump: []string{"ast", "codegen", "verifier"}}},
		{[]string{"-d", "verifier", "-e", "P"}, options{program: "P", dump: []string{"verifier"}}},
		{[]string{"-d", "ast,codegen", "-e", "P"}, options{program: "P", dump: []string{"ast", "codegen"}}},
		{[]string{"-dcodegen", "-e", "P"}, options{program: "P", dump: []string{"codegen"}}},
		// Options after the program are the program's parameters.
		{[]string{"s.gt", "-f", "json"}, options{file: "s.gt", params: []string{"-f", "json"}}},
		{[]string{"-e", "P", "--", "-o", "x"}, options{program: "P", params: []string{"-o", "x"}}},
		{[]string{"-lv"}, options{list: true, verbose: true}},
		{[]string{"-hV"}, options{showHelp: true, showVer: true}},
	}
	for _, tt := range tests {
		got, err := parseArgs(tt.args)
		if err != nil {
			t.Errorf("parseArgs(%q): %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("parseArgs(%q) = %+v, want %+v", tt.args, *got, tt.want)
		}
	}
}

func TestParseArgsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-f"}, "-f needs a format (text or json)"},
		{[]string{"-f", "yaml", "-e", "P"}, `invalid output format "yaml" (valid: text, json)`},
		{[]string{"-B", "some", "-e", "P"}, `invalid buffering mode "some" (valid: none, line, full)`},
		{[]string{"-p", "0", "-e", "P"}, `-p needs a process ID, not "0"`},
		{[]string{"-p", "-5", "-e", "P"}, `-p needs a process ID, not "-5"`},
		{[]string{"-c", ""}, "-c needs a command"},
		{[]string{"-o"}, "-o needs a file name"},
		{[]string{"-dx", "-e", "P"}, `-d: unknown stage "x" (valid: ast, codegen, verifier, all)`},
		{[]string{"-qx", "-e", "P"}, "unknown option -qx"},
		{[]string{"--json"}, "unknown option --json"},
		{[]string{"--dry-run", "--verify", "-e", "P"}, "--dry-run and --verify cannot be used together"},
		{[]string{"-c", "true", "-p", "1", "-e", "P"}, "-c and -p cannot be used together"},
	}
	for _, tt := range tests {
		_, err := parseArgs(tt.args)
		if _, ok := err.(*usageError); !ok || err.Error() != tt.want {
			t.Errorf("parseArgs(%q) error = %v, want usage error %q", tt.args, err, tt.want)
		}
	}
}
