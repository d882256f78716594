package main

import (
	"errors"
	"fmt"
	"os"

	"procgdb/hostio"
	"procgdb/rsp"
)

// fileSystems returns what gives each client its host I/O
// (rsp.Config.Files): a hostio.Files of its own, confined and read-only as
// --vfile-root and --no-vfile-write say. It opens the root now, once, in
// procgdb's own mount namespace: a wrong --vfile-root fails at start-up
// rather than on gdb's first file, and every client is confined to that
// directory, whatever its path names later.
func fileSystems(o options) (func() (rsp.FileSystem, error), error) {
	first, err := hostio.New(hostio.Options{Root: o.vfileRoot, ReadOnly: o.vfileRO})
	if err != nil {
		if pe, ok := errors.AsType[*os.PathError](err); ok {
			err = pe.Err
		}
		return nil, fmt.Errorf("--vfile-root %s: %w", o.vfileRoot, err)
	}
	// first stays open for procgdb's life: it holds the root.
	return func() (rsp.FileSystem, error) {
		f, err := first.Dup()
		if err != nil {
			return nil, err
		}
		return f, nil
	}, nil
}
