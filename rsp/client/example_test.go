package client_test

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"log"
	"time"

	"procgdb/rsp/client"
)

// A session with procgdb started over a pipe: a breakpoint at main (its
// address from the program's ELF symbols, moved as the program was
// loaded), the program counter there, and the program's end. The programs
// in examples/ do more, and are tested.
func Example() {
	ctx := context.Background()
	c, err := client.Start(ctx, "procgdb", "-", "./hello") // or client.Dial(ctx, "tcp", "localhost:1234")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	f, err := elf.Open("./hello")
	if err != nil {
		log.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		log.Fatal(err)
	}
	bias, err := c.LoadBias(f.Entry)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range syms {
		if s.Name != "main" {
			continue
		}
		bp, err := c.SetBreakpoint(s.Value + bias)
		if err != nil {
			log.Fatal(err)
		}
		stop, err := c.Continue(ctx)
		if err != nil {
			log.Fatal(err)
		}
		rip, err := c.ReadRegister(stop.Thread(), "rip")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%v at %#x\n", stop, rip.Uint64()) // breakpoint, thread p4d2.4d2 at 0x555555555149
		if err := bp.Remove(); err != nil {
			log.Fatal(err)
		}
	}
	stop, err := c.Continue(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(stop) // process 1234 exited with code 0
}

// Running a program for at most a second: Wait interrupts it when the
// context's deadline passes, and the program is then stopped where it
// was.
func ExampleClient_Wait() {
	ctx := context.Background()
	c, err := client.Dial(ctx, "tcp", "localhost:1234")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Resume(client.Action{Kind: client.Continue}); err != nil {
		log.Fatal(err)
	}
	second, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	stop, err := c.Wait(second)
	if errors.Is(err, context.DeadlineExceeded) {
		pc, err := c.PC(stop.Thread())
		fmt.Printf("still running after a second; interrupted at %#x (%v)\n", pc, err)
		return
	}
	fmt.Println(stop, err)
}
