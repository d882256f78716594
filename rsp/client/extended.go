package client

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Extended mode, per the manual's "Packets" and "General Query Packets":
// '!' turns it on; vRun starts a program, with the environment
// (QEnvironmentReset, QEnvironmentHexEncoded), working directory
// (QSetWorkingDir) and shell (QStartupWithShell) set before; vAttach
// attaches; vKill and D end the debugging of a process.

// Program is a program for Run to start.
type Program struct {
	Path string   // the program's path on the stub's machine
	Args []string // its arguments, after argv[0]
	// Env holds KEY=VALUE pairs added to (or replacing in) the stub's
	// own environment.
	Env []string
	// Dir is the working directory; "" means the stub's.
	Dir string
	// Shell starts the program through the stub's shell, which expands
	// the arguments (gdb's startup-with-shell); without it the
	// arguments are passed as they are.
	Shell bool
}

// extend turns extended mode on, once. A stub without '!' (lldb-server)
// may still serve vRun and vAttach, and is left to answer them.
func (c *Client) extend() error {
	if c.extended {
		return nil
	}
	if err := c.requestOK("!"); err != nil && !errors.Is(err, ErrUnsupported) {
		return fmt.Errorf("client: extended mode: %w", err)
	}
	c.extended = true
	return nil
}

// Run starts a program in extended mode and returns its first stop,
// before its first instruction. The stub must serve extended mode
// (procgdb --multi, gdbserver --multi, lldb-server without a program).
func (c *Client) Run(ctx context.Context, p Program) (Stop, error) {
	if err := c.extend(); err != nil {
		return Stop{}, err
	}
	if err := c.launchSettings(p); err != nil {
		return Stop{}, fmt.Errorf("client: run %s: %w", p.Path, err)
	}
	var b strings.Builder
	b.WriteString("vRun;" + hex.EncodeToString([]byte(p.Path)))
	for _, a := range p.Args {
		b.WriteString(";" + hex.EncodeToString([]byte(a)))
	}
	s, err := c.stopRequest(ctx, b.String())
	if err != nil {
		return Stop{}, fmt.Errorf("client: run %s: %w", p.Path, err)
	}
	c.passDefaultSignals()
	return s, nil
}

// launchSettings sends what p says beyond the program and its arguments.
// The environment and the working directory are sent whether or not the
// stub lists them in qSupported (lldb-server has them and does not), and
// fail only when p asks for them; the shell is turned on or off where the
// stub has the setting.
func (c *Client) launchSettings(p Program) error {
	if c.Supports("QEnvironmentReset") {
		if err := c.requestOK("QEnvironmentReset"); err != nil {
			return err
		}
	}
	for _, kv := range p.Env {
		if err := c.requestOK("QEnvironmentHexEncoded:" + hex.EncodeToString([]byte(kv))); err != nil {
			return fmt.Errorf("environment: %w", err)
		}
	}
	if p.Dir != "" || c.Supports("QSetWorkingDir") {
		// An empty directory resets it to the stub's.
		if err := c.requestOK("QSetWorkingDir:" + hex.EncodeToString([]byte(p.Dir))); err != nil {
			return fmt.Errorf("working directory: %w", err)
		}
	}
	if !p.Shell && !c.Supports("QStartupWithShell") {
		return nil
	}
	shell := "0"
	if p.Shell {
		shell = "1"
	}
	if err := c.requestOK("QStartupWithShell:" + shell); err != nil {
		return fmt.Errorf("startup with shell: %w", err)
	}
	return nil
}

// Attach attaches to the running process pid in extended mode and returns
// its stop.
func (c *Client) Attach(ctx context.Context, pid int) (Stop, error) {
	if err := c.extend(); err != nil {
		return Stop{}, err
	}
	s, err := c.stopRequest(ctx, fmt.Sprintf("vAttach;%x", pid))
	if err != nil {
		return Stop{}, fmt.Errorf("client: attach %d: %w", pid, err)
	}
	c.passDefaultSignals()
	return s, nil
}

// stopRequest sends a request answered by a stop reply (vRun, vAttach)
// and records the stop; ctx bounds the wait.
func (c *Client) stopRequest(ctx context.Context, req string) (Stop, error) {
	var s Stop
	err := c.withContext(ctx, func() error {
		r, err := c.request(req)
		if err != nil {
			return err
		}
		s, err = c.stopped([]byte(r), req)
		return err
	})
	return s, err
}

// Kill kills process pid (vKill; k for a stub without the multiprocess
// feature, which may then close the connection).
func (c *Client) Kill(pid int) error {
	if !c.multiprocess {
		if err := c.ready("k"); err != nil {
			return err
		}
		// k: lldb-server answers X09; gdbserver answers only in
		// extended mode, and otherwise exits with its process.
		if err := c.raw.Send("k"); err != nil {
			c.fail(err)
			return fmt.Errorf("client: kill: %w", err)
		}
		if _, err := c.raw.Receive(); err != nil {
			c.fail(err)
		}
		c.forget(pid)
		return nil
	}
	if err := c.requestOK(fmt.Sprintf("vKill;%x", pid)); err != nil {
		return fmt.Errorf("client: kill %d: %w", pid, err)
	}
	c.forget(pid)
	return nil
}

// Detach removes the breakpoints and watchpoints the Client set in process
// pid and lets the process run on without the stub (D).
func (c *Client) Detach(pid int) error {
	if err := c.removePoints(pid); err != nil {
		return fmt.Errorf("client: detach %d: %w", pid, err)
	}
	req := "D"
	if c.multiprocess && pid > 0 {
		req = fmt.Sprintf("D;%x", pid)
	}
	if err := c.requestOK(req); err != nil {
		return fmt.Errorf("client: detach %d: %w", pid, err)
	}
	c.forget(pid)
	return nil
}

// forget drops what the Client knows of process pid, which is gone.
func (c *Client) forget(pid int) {
	for k := range c.points {
		if k.in(pid) {
			delete(c.points, k)
		}
	}
	if c.sel.PID == pid {
		c.selKnown = false
	}
}
