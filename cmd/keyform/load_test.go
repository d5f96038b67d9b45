package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLoadsUseLoadOptions holds every policy load of the command to
// loadOptions, which adds the recipient check that schema leaves to its
// caller: a load that forgot it would accept recipients seal cannot use.
// validate_recipients.txtar checks the same through the commands.
func TestLoadsUseLoadOptions(t *testing.T) {
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	loads := 0
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "schema" || !slices.Contains([]string{"Load", "LoadAs", "LoadFS", "LoadBase", "LoadBaseWhile", "NewEditSet", "EditDir"}, sel.Sel.Name) {
				return true
			}
			loads++
			if !slices.ContainsFunc(call.Args, isLoadOptions) {
				t.Errorf("%s: schema.%s without loadOptions(e, ...) as its options", fset.Position(call.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
	if loads == 0 {
		t.Fatal("found no schema.Load or schema.LoadFS call; does this test still look in the right place?")
	}
}

func isLoadOptions(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	fn, ok := call.Fun.(*ast.Ident)
	return ok && fn.Name == "loadOptions"
}
