package script

import (
	"debug/elf"
	"fmt"

	"procgdb/rsp/client"
)

// Table holds a program's symbols from its ELF file (debug/elf), at the
// addresses they have in a running process.
type Table struct {
	syms []elf.Symbol
}

// loadSymbols reads the symbols of program file prog and moves them to
// where the process of c's selected thread, which runs prog, has them: a
// position-independent program is loaded elsewhere than its file says.
func loadSymbols(c *client.Client, prog string) (*Table, error) {
	f, err := elf.Open(prog)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prog, err)
	}
	bias, err := c.LoadBias(f.Entry)
	if err != nil {
		return nil, err
	}
	for i := range syms {
		if syms[i].Section != elf.SHN_UNDEF {
			syms[i].Value += bias
		}
	}
	return &Table{syms: syms}, nil
}

// Lookup returns the symbol called name.
func (t *Table) Lookup(name string) (elf.Symbol, error) {
	for _, s := range t.syms {
		if s.Name == name && s.Section != elf.SHN_UNDEF {
			return s, nil
		}
	}
	return elf.Symbol{}, fmt.Errorf("no symbol %s", name)
}

// FuncAt returns the name of the function that holds address pc, or "?".
func (t *Table) FuncAt(pc uint64) string {
	for _, s := range t.syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value <= pc && pc < s.Value+s.Size {
			return s.Name
		}
	}
	return "?"
}
