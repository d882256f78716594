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
// --vfile-root and --no-vfile-write say. It checks the root now, so that a
// wrong --vfile-root fails at start-up rather than on gdb's first file.
func fileSystems(o options) (func() (rsp.FileSystem, error), error) {
	opts := hostio.Options{Root: o.vfileRoot, ReadOnly: o.vfileRO}
	f, err := hostio.New(opts)
	if err != nil {
		if pe, ok := errors.AsType[*os.PathError](err); ok {
			err = pe.Err
		}
		return nil, fmt.Errorf("--vfile-root %s: %w", o.vfileRoot, err)
	}
	// Absolute, so that the root stays the one named on the command line.
	opts.Root = f.Root()
	if err := f.CloseAll(); err != nil {
		return nil, err
	}
	return func() (rsp.FileSystem, error) {
		f, err := hostio.New(opts)
		if err != nil {
			return nil, err
		}
		return f, nil
	}, nil
}
