// Command callcount counts the calls of a function: it starts a program
// under a stub, sets a breakpoint at the function (its address from the
// program's ELF symbols), lets the program run to its end, and prints how
// often the breakpoint was hit and how the program ended.
//
//	go run ./examples/callcount [-stub procgdb|gdbserver|ADDR] PROG FUNC [ARGS...]
//
// For example, on the examples' small C program:
//
//	gcc -g -o /tmp/counter examples/testdata/counter.c
//	go run ./examples/callcount /tmp/counter work 5
//	work called 5 times
//	exit code 5
//
// The stub is procgdb by default, from $PATH or built from this module.
package main

import (
	"context"
	"fmt"
	"io"

	"procgdb/examples/internal/script"
	"procgdb/rsp/client"
)

func main() {
	script.Main("callcount", "PROG FUNC [ARGS...]", 2, run)
}

func run(ctx context.Context, out io.Writer, stub string, args []string) error {
	prog, fn := args[0], args[1]
	c, syms, err := script.Launch(ctx, stub, prog, args[2:])
	if err != nil {
		return err
	}
	defer c.Close()
	sym, err := syms.Lookup(fn)
	if err != nil {
		return err
	}
	if _, err := c.SetBreakpoint(sym.Value); err != nil {
		return err
	}

	calls := 0
	end, err := script.RunToEnd(ctx, c, func(stop client.Stop) error {
		if stop.Kind == client.StopBreakpoint {
			calls++
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s called %d times\n%s\n", fn, calls, script.Ending(end))
	return nil
}
