// Command watchlog logs every write to a global variable: it starts a
// program under a stub, watches the variable with a hardware watchpoint,
// and at each write prints the old and the new value and the function
// that wrote it, until the program ends.
//
//	go run ./examples/watchlog [-stub procgdb|gdbserver|ADDR] PROG VAR [ARGS...]
//
// For example, on the examples' small C program:
//
//	gcc -g -o /tmp/counter examples/testdata/counter.c
//	go run ./examples/watchlog /tmp/counter total 3
//	total: 0 -> 1 in work
//	total: 1 -> 3 in work
//	total: 3 -> 6 in work
//	exit code 3
//
// The variable's address and size come from the program's ELF symbols;
// the x86-64 debug registers watch 1, 2, 4 or 8 aligned bytes.
package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"

	"procgdb/examples/internal/script"
	"procgdb/rsp/client"
)

func main() {
	script.Main("watchlog", "PROG VAR [ARGS...]", 2, run)
}

func run(ctx context.Context, out io.Writer, stub string, args []string) error {
	prog, name := args[0], args[1]
	c, syms, err := script.Launch(ctx, stub, prog, args[2:])
	if err != nil {
		return err
	}
	defer c.Close()
	v, err := syms.Lookup(name)
	if err != nil {
		return err
	}
	size := int(v.Size)
	if size != 1 && size != 2 && size != 4 && size != 8 || v.Value%v.Size != 0 {
		return fmt.Errorf("%s has %d bytes at %#x: the debug registers watch 1, 2, 4 or 8 aligned bytes", name, v.Size, v.Value)
	}
	if _, err := c.SetWatchpoint(client.HWWrite, v.Value, size); err != nil {
		return err
	}
	old, err := read(c, v.Value, size)
	if err != nil {
		return err
	}

	end, err := script.RunToEnd(ctx, c, func(stop client.Stop) error {
		if stop.Kind != client.StopWatchpoint {
			return nil
		}
		val, err := read(c, v.Value, size)
		if err != nil {
			return err
		}
		pc, err := c.PC(stop.Thread())
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %d -> %d in %s\n", name, old, val, syms.FuncAt(pc))
		old = val
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, script.Ending(end))
	return nil
}

// read reads the variable's value: size bytes at addr, little-endian.
func read(c *client.Client, addr uint64, size int) (uint64, error) {
	var b [8]byte
	if _, err := c.ReadMemory(addr, b[:size]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}
