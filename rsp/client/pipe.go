package client

import (
	"errors"
	"os"
	"os/exec"
	"time"
)

// exitGrace is how long Close waits for a stub it started to exit once
// its input is closed, before killing it.
const exitGrace = 5 * time.Second

// pipeConn is the connection to a stub started with Start: the stub's
// standard input and output, as pipes that have deadlines.
type pipeConn struct {
	r    *os.File // the stub's standard output
	w    *os.File // the stub's standard input
	cmd  *exec.Cmd
	done chan struct{} // closed once the stub has exited
}

// newPipeConn starts cmd with pipes as its standard input and output.
func newPipeConn(cmd *exec.Cmd) (*pipeConn, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout = inR, outW
	err = cmd.Start()
	// The child has its own copies of its ends.
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	p := &pipeConn{r: outR, w: inW, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait() // the stub's exit status says nothing the client needs
		close(p.done)
	}()
	return p, nil
}

func (p *pipeConn) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *pipeConn) Write(b []byte) (int, error) { return p.w.Write(b) }

// SetDeadline sets the deadline of both pipes.
func (p *pipeConn) SetDeadline(t time.Time) error {
	return errors.Join(p.r.SetReadDeadline(t), p.w.SetWriteDeadline(t))
}

// Close closes the stub's input, which ends it, and waits for it; a stub
// that does not exit in time is killed. Its output is closed last, so
// that what it writes on its way out does not kill it with SIGPIPE.
func (p *pipeConn) Close() error {
	err := p.w.Close()
	select {
	case <-p.done:
	case <-time.After(exitGrace):
		p.cmd.Process.Kill() // it may have exited just now
		<-p.done
	}
	return errors.Join(err, p.r.Close())
}
