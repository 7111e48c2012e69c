package check

import (
	"strings"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/stdlib"
)

// Settings are what a `config = { ... }` block sets. Zero values mean
// "not set": the defaults apply.
type Settings struct {
	// MaxMapKeys bounds every map (bpftrace's max_map_keys).
	MaxMapKeys int64
	// NoPrintMapsOnExit is set by print_maps_on_exit = false.
	NoPrintMapsOnExit bool
}

// config checks a config block. Keys may be written with or without
// bpftrace's old BPFTRACE_ prefix, in either case.
func (c *checker) config(entries []*ast.ConfigEntry) {
	seen := map[string]bool{}
	for _, e := range entries {
		key := strings.ToLower(strings.TrimPrefix(strings.ToUpper(e.Key), "BPFTRACE_"))
		if seen[key] {
			c.errorf(e.At, "%s is set twice", e.Key)
			continue
		}
		seen[key] = true
		switch e.Value.(type) {
		case *ast.IntLit, *ast.StrLit:
			// Config values are literals; there is no probe context here.
			c.expr(e.Value)
		case *ast.Ident:
		default:
			c.errorf(e.Value.Pos(), "config values must be literals")
			continue
		}
		v, isInt := c.info.Consts[e.Value]
		switch key {
		case "max_map_keys":
			if !isInt || v < 1 {
				c.errorf(e.Value.Pos(), "max_map_keys must be a positive integer constant")
				continue
			}
			c.info.Settings.MaxMapKeys = v
		case "max_strlen", "strlen":
			if !isInt || v < 1 || v > stdlib.MaxStrSize {
				c.errorf(e.Value.Pos(), "max_strlen must be an integer constant from 1 to %d", stdlib.MaxStrSize)
				continue
			}
			c.conf.Lib.SetStrSize(int(v))
		case "print_maps_on_exit":
			b, ok := configBool(c, e.Value)
			if !ok {
				c.errorf(e.Value.Pos(), "print_maps_on_exit must be true or false")
				continue
			}
			c.info.Settings.NoPrintMapsOnExit = !b
		default:
			c.errorf(e.At, "config key %q is not supported yet (supported: max_map_keys, max_strlen, print_maps_on_exit)", e.Key)
		}
	}
}

// configBool reads a boolean setting: true/false, 1/0 or "true"/"false".
func configBool(c *checker, e ast.Expr) (bool, bool) {
	if id, ok := e.(*ast.Ident); ok && (id.Name == "true" || id.Name == "false") {
		return id.Name == "true", true
	}
	if v, ok := c.info.Consts[e]; ok && (v == 0 || v == 1) {
		return v == 1, true
	}
	if s, ok := c.info.Strings[e]; ok && (s == "true" || s == "false") {
		return s == "true", true
	}
	return false, false
}
