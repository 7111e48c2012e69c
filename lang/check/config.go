package check

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/stdlib"
)

// Settings are what a `config = { ... }` block (or a BPFTRACE_* override,
// see Config.Overrides) sets. Zero values mean "not set": the defaults
// apply.
type Settings struct {
	// MaxMapKeys bounds every map (max_map_keys).
	MaxMapKeys int64
	// NoPrintMapsOnExit is set by print_maps_on_exit = false.
	NoPrintMapsOnExit bool
	// MaxCatBytes bounds what cat() prints of a file (max_cat_bytes).
	MaxCatBytes int64
	// MaxProbes and MaxBPFProgs bound the probes attached and the programs
	// generated (max_probes, max_bpf_progs).
	MaxProbes, MaxBPFProgs int64
	// PerfRBPages sizes the event ring buffer in pages (perf_rb_pages).
	PerfRBPages int64
	// License is the license programs are loaded with (license).
	License string
	// StackMode is how kstack and ustack print (stack_mode).
	StackMode string
	// Values holds every setting made, as text by canonical name,
	// including those that change nothing yet (the user-space symbol
	// options, which will take effect with user stacks).
	Values map[string]string
}

// A setting is one entry of the config table: its canonical name, the
// older spellings that mean the same, the kind of value it takes and where
// the value goes.
type setting struct {
	name    string
	aliases []string
	// kind is "int", "bool", "string", or the allowed words separated by
	// "|".
	kind string
	// min and max bound an int (max 0: no upper bound).
	min, max int64
	// apply stores a checked value; v is the int (booleans as 0/1) and s
	// the text.
	apply func(c *checker, v int64, s string)
}

// settings is the table of config keys gotrace knows. Names are
// bpftrace's, without the BPFTRACE_ prefix, in lower case.
func settings() []setting {
	other := func(*checker, int64, string) {} // recorded in Settings.Values only
	return []setting{
		{name: "max_map_keys", aliases: []string{"map_keys_max"}, kind: "int", min: 1, max: 1 << 24,
			apply: func(c *checker, v int64, _ string) { c.info.Settings.MaxMapKeys = v }},
		{name: "max_strlen", aliases: []string{"strlen"}, kind: "int", min: 1, max: stdlib.MaxStrSize,
			apply: func(c *checker, v int64, _ string) { c.conf.Lib.SetStrSize(int(v)) }},
		{name: "print_maps_on_exit", kind: "bool",
			apply: func(c *checker, v int64, _ string) { c.info.Settings.NoPrintMapsOnExit = v == 0 }},
		{name: "max_cat_bytes", aliases: []string{"cat_bytes_max"}, kind: "int", min: 1,
			apply: func(c *checker, v int64, _ string) { c.info.Settings.MaxCatBytes = v }},
		{name: "max_probes", kind: "int", min: 1,
			apply: func(c *checker, v int64, _ string) { c.info.Settings.MaxProbes = v }},
		{name: "max_bpf_progs", kind: "int", min: 1,
			apply: func(c *checker, v int64, _ string) { c.info.Settings.MaxBPFProgs = v }},
		{name: "perf_rb_pages", kind: "int", min: 1, max: 1 << 16,
			apply: func(c *checker, v int64, _ string) { c.info.Settings.PerfRBPages = v }},
		// gotrace grows the verifier log as needed and shows its last lines.
		{name: "log_size", kind: "int", min: 1, apply: other},
		{name: "license", kind: "GPL|GPL v2|GPL and additional rights|Dual BSD/GPL|Dual MIT/GPL|Dual MPL/GPL",
			apply: func(c *checker, _ int64, s string) { c.info.Settings.License = s }},
		{name: "stack_mode", kind: "bpftrace|perf|raw|build_id",
			apply: func(c *checker, _ int64, s string) {
				c.info.Settings.StackMode = s
				c.conf.Lib.SetStackMode(s)
			}},
		{name: "cpp_demangle", kind: "bool", apply: func(c *checker, v int64, _ string) { c.conf.Lib.SetDemangle(v != 0) }},
		{name: "no_cpp_demangle", kind: "bool", apply: func(c *checker, v int64, _ string) { c.conf.Lib.SetDemangle(v == 0) }},
		{name: "cache_user_symbols", kind: "per_program|per_pid|none", apply: other},
		{name: "lazy_symbolication", kind: "bool", apply: other},
		{name: "show_debug_info", kind: "bool", apply: other},
		{name: "unstable_macro", kind: "error|warn|enable", apply: other},
		{name: "unstable_map_decl", kind: "error|warn|enable", apply: other},
		{name: "unstable_import", kind: "error|warn|enable", apply: other},
	}
}

// ConfigKey names a config key, for the language reference (whose tests
// check that it documents every key).
type ConfigKey struct {
	// Name is the canonical name; Aliases are older spellings.
	Name    string
	Aliases []string
}

// ConfigKeys lists the config keys gotrace knows, in the table's order.
func ConfigKeys() []ConfigKey {
	var keys []ConfigKey
	for _, s := range settings() {
		keys = append(keys, ConfigKey{Name: s.name, Aliases: append([]string(nil), s.aliases...)})
	}
	return keys
}

// configKey is a key's canonical spelling: bpftrace accepts
// BPFTRACE_STACK_MODE, STACK_MODE and stack_mode alike.
func configKey(key string) string {
	return strings.ToLower(strings.TrimPrefix(strings.ToUpper(key), "BPFTRACE_"))
}

// findSetting looks a key up by canonical name or alias.
func findSetting(key string) (setting, bool) {
	for _, s := range settings() {
		if s.name == key {
			return s, true
		}
		for _, a := range s.aliases {
			if a == key {
				return s, true
			}
		}
	}
	return setting{}, false
}

// config checks a config block, then applies Config.Overrides, which take
// precedence as bpftrace's environment variables do.
func (c *checker) config(entries []*ast.ConfigEntry) {
	seen := map[string]bool{}
	for _, e := range entries {
		key := configKey(e.Key)
		s, ok := findSetting(key)
		if !ok {
			err := c.errorf(e.At, "unknown config key %q", e.Key)
			if err.Hint = suggest(key, settingNames()); err.Hint == "" {
				err.Hint = "known keys: " + strings.Join(settingNames(), ", ")
			}
			continue
		}
		if seen[s.name] {
			c.errorf(e.At, "%s is set twice", e.Key)
			continue
		}
		seen[s.name] = true
		switch e.Value.(type) {
		case *ast.IntLit, *ast.StrLit:
			// Config values are literals; there is no probe context here.
			c.expr(e.Value)
		case *ast.Ident:
		default:
			c.errorf(e.Value.Pos(), "config values must be literals")
			continue
		}
		var text string
		if v, isInt := c.info.Consts[e.Value]; isInt {
			text = strconv.FormatInt(v, 10)
		} else if str, isStr := c.info.Strings[e.Value]; isStr {
			text = str
		} else if id, isIdent := e.Value.(*ast.Ident); isIdent {
			text = id.Name
		}
		if msg := c.applySetting(s, text); msg != "" {
			c.errorf(e.Value.Pos(), "%s", msg)
		}
	}
	keys := make([]string, 0, len(c.conf.Overrides))
	for k := range c.conf.Overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s, ok := findSetting(configKey(k))
		if !ok {
			continue // the environment holds BPFTRACE_ variables of other versions
		}
		if msg := c.applySetting(s, c.conf.Overrides[k]); msg != "" {
			// Not from the script: no position to point at.
			c.errorf(ast.Pos{}, "BPFTRACE_%s: %s", strings.ToUpper(s.name), msg)
		}
	}
}

// applySetting checks text against s's kind and applies it, or returns
// what is wrong with it.
func (c *checker) applySetting(s setting, text string) string {
	switch s.kind {
	case "int":
		v, err := strconv.ParseInt(text, 0, 64)
		switch {
		case err != nil:
			return fmt.Sprintf("%s must be an integer, not %q", s.name, text)
		case v < s.min || (s.max > 0 && v > s.max):
			if s.max > 0 {
				return fmt.Sprintf("%s must be from %d to %d, not %d", s.name, s.min, s.max, v)
			}
			return fmt.Sprintf("%s must be %d or more, not %d", s.name, s.min, v)
		}
		s.apply(c, v, text)
	case "bool":
		var v int64
		switch strings.ToLower(text) {
		case "true", "1":
			v = 1
		case "false", "0":
		default:
			return fmt.Sprintf("%s must be true or false, not %q", s.name, text)
		}
		s.apply(c, v, text)
	default:
		for _, w := range strings.Split(s.kind, "|") {
			if strings.EqualFold(w, text) {
				s.apply(c, 0, w)
				c.recordSetting(s.name, w)
				return ""
			}
		}
		return fmt.Sprintf("%s must be one of %s, not %q", s.name, strings.ReplaceAll(s.kind, "|", ", "), text)
	}
	c.recordSetting(s.name, text)
	return ""
}

// recordSetting keeps every setting's final text in Settings.Values, so
// that settings without a field of their own are visible to the runtime.
func (c *checker) recordSetting(name, text string) {
	if c.info.Settings.Values == nil {
		c.info.Settings.Values = map[string]string{}
	}
	c.info.Settings.Values[name] = text
}

// settingNames lists the canonical config keys, for error messages.
func settingNames() []string {
	var names []string
	for _, s := range settings() {
		names = append(names, s.name)
	}
	return names
}
