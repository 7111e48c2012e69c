package cdecl

import (
	"fmt"
	"strings"
)

// baseKind classifies the C base types.
type baseKind int

const (
	baseInt baseKind = iota
	baseVoid
	baseFloat
)

// base is a C base type named with keywords, on x86_64 (LP64, char signed).
type base struct {
	kind    baseKind
	name    string // the usual spelling: "unsigned long", "signed char"
	size    int
	signed  bool
	char    bool // char or signed char: arrays of it are strings
	boolean bool // _Bool: bitfields of it are at most 1 bit wide
}

// isBaseWord reports whether w is a keyword that names (part of) a base type.
func isBaseWord(w string) bool {
	switch w {
	case "void", "char", "short", "int", "long", "signed", "unsigned",
		"_Bool", "bool", "float", "double", "__signed", "__signed__":
		return true
	}
	return false
}

// isQualifier reports whether w is a type qualifier or another keyword
// that does not change a member's layout.
func isQualifier(w string) bool {
	switch w {
	case "const", "volatile", "restrict", "__const", "__const__", "__volatile",
		"__volatile__", "__restrict", "__restrict__", "__extension__", "_Atomic":
		return true
	}
	return false
}

// isStorageClass reports whether w is a storage class or function
// specifier, which members cannot have.
func isStorageClass(w string) bool {
	switch w {
	case "typedef", "static", "extern", "register", "auto", "inline", "__inline",
		"__inline__", "_Thread_local", "__thread", "_Noreturn":
		return true
	}
	return false
}

// isKeyword reports whether w is reserved: it cannot name a member.
func isKeyword(w string) bool {
	return isBaseWord(w) || isQualifier(w) || isStorageClass(w) || isAttribute(w) ||
		w == "struct" || w == "union" || w == "enum" || w == "sizeof"
}

func isAttribute(w string) bool { return w == "__attribute__" || w == "__attribute" }

// parseBase makes a base type of its keywords, in any order.
func parseBase(words []string) (base, error) {
	var signed, unsigned, char, short, integer, boolean, void, float, double int
	long := 0
	for _, w := range words {
		switch w {
		case "signed", "__signed", "__signed__":
			signed++
		case "unsigned":
			unsigned++
		case "char":
			char++
		case "short":
			short++
		case "int":
			integer++
		case "long":
			long++
		case "_Bool", "bool":
			boolean++
		case "void":
			void++
		case "float":
			float++
		case "double":
			double++
		}
	}
	bad := func() (base, error) {
		return base{}, fmt.Errorf("invalid combination of type specifiers: %s", strings.Join(words, " "))
	}
	if signed+unsigned > 1 || char > 1 || short > 1 || integer > 1 || long > 2 || boolean > 1 ||
		void > 1 || float > 1 || double > 1 {
		return bad()
	}
	kinds := 0
	for _, n := range []int{char, short, boolean, void, float, double} {
		kinds += n
	}
	if long > 0 && double == 0 {
		kinds++
	}
	if kinds > 1 || (double > 0 && long > 1) {
		return bad()
	}
	sign := signed + unsigned
	switch {
	case void > 0 || boolean > 0 || float > 0 || double > 0:
		if sign > 0 || integer > 0 {
			return bad()
		}
		switch {
		case void > 0:
			return base{kind: baseVoid, name: "void"}, nil
		case boolean > 0:
			return base{name: "_Bool", size: 1, boolean: true}, nil
		case float > 0:
			return base{kind: baseFloat, name: "float", size: 4}, nil
		case long > 0:
			return base{kind: baseFloat, name: "long double", size: 16}, nil
		}
		return base{kind: baseFloat, name: "double", size: 8}, nil
	case char > 0:
		if integer > 0 {
			return bad()
		}
		switch {
		case unsigned > 0:
			return base{name: "unsigned char", size: 1}, nil
		case signed > 0:
			return base{name: "signed char", size: 1, signed: true, char: true}, nil
		}
		return base{name: "char", size: 1, signed: true, char: true}, nil
	}
	b := base{name: "int", size: 4, signed: unsigned == 0}
	switch {
	case short > 0:
		b.name, b.size = "short", 2
	case long == 1:
		b.name, b.size = "long", 8
	case long == 2:
		b.name, b.size = "long long", 8
	}
	if unsigned > 0 {
		b.name = "unsigned " + b.name
	}
	return b, nil
}

// fixedTypedef returns the size and signedness of the typedefs scripts use
// without including a header, for when the kernel's BTF does not know them
// (or is not available).
func fixedTypedef(name string) (size int, signed, ok bool) {
	switch name {
	case "u8", "__u8", "uint8_t", "u_int8_t":
		return 1, false, true
	case "s8", "__s8", "int8_t":
		return 1, true, true
	case "u16", "__u16", "uint16_t", "u_int16_t", "__le16", "__be16":
		return 2, false, true
	case "s16", "__s16", "int16_t":
		return 2, true, true
	case "u32", "__u32", "uint32_t", "u_int32_t", "__le32", "__be32", "uid_t", "gid_t", "__kernel_uid32_t", "__kernel_gid32_t":
		return 4, false, true
	case "s32", "__s32", "int32_t", "pid_t", "__kernel_pid_t":
		return 4, true, true
	case "u64", "__u64", "uint64_t", "u_int64_t", "__le64", "__be64", "size_t", "__kernel_size_t", "uintptr_t":
		return 8, false, true
	case "s64", "__s64", "int64_t", "ssize_t", "__kernel_ssize_t", "intptr_t", "ptrdiff_t", "loff_t", "off_t":
		return 8, true, true
	}
	return 0, false, false
}
