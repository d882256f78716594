package rsp

import (
	"errors"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
	"procgdb/regs"
)

// Error replies, per the manual's "Standard Replies": "E NN" with two hex
// digits, or "E.text" once the client has offered error-message+. gdb
// mostly shows the number without interpreting it, so procgdb keeps a
// small fixed set of codes that a user (or a test) can rely on:
//
//	E01  malformed request: bad hex, a missing field, a number too large,
//	     a packet longer than PacketSize
//	E02  invalid argument: a thread, process, register, signal or object
//	     that does not exist (the target's inferior.ErrNoProcess,
//	     ErrNoThread, ErrNothingToResume), an option procgdb does not
//	     support, or EINVAL from the target
//	E03  no such process or thread (it exited under us: ESRCH)
//	E05  memory could not be read or written (EIO, EFAULT)
//	E0f  any other failure of the target
//
// This file is the only place that turns an error into a code.
const (
	codeMalformed byte = 0x01
	codeInvalid   byte = 0x02
	codeNoProcess byte = 0x03
	codeMemory    byte = 0x05
	codeFailed    byte = 0x0f
)

// maxErrorText bounds the text of an E.text reply.
const maxErrorText = 200

// A protoError is an error whose reply code is fixed where it is made:
// malformed requests and invalid arguments found by the session itself.
type protoError struct {
	code byte
	msg  string
}

// Error returns the message, which E.text replies carry.
func (e *protoError) Error() string { return e.msg }

// errMalformed is the cause of parse errors other than bad hex.
var errMalformed = &protoError{codeMalformed, "malformed"}

// Errors the session finds while checking a request against its state.
var (
	errUnknownThread  = &protoError{codeInvalid, "unknown thread"}
	errUnknownProcess = &protoError{codeInvalid, "unknown process"}
	errNoProcesses    = &protoError{codeNoProcess, "no process is being debugged"}
	errUnknownSignal  = &protoError{codeInvalid, "signal has no Linux equivalent"}
	errMemory         = &protoError{codeMemory, "memory not accessible"}
	errUnsupported    = &protoError{codeInvalid, "not supported"}
)

// errorCode returns the code of an error reply for err.
func errorCode(err error) byte {
	if pe, ok := errors.AsType[*protoError](err); ok {
		return pe.code
	}
	if errors.Is(err, regs.ErrUnknownRegister) || errors.Is(err, inferior.ErrNoProcess) ||
		errors.Is(err, inferior.ErrNoThread) || errors.Is(err, inferior.ErrNothingToResume) {
		return codeInvalid
	}
	if errno, ok := errors.AsType[unix.Errno](err); ok {
		switch errno {
		case unix.ESRCH:
			return codeNoProcess
		case unix.EIO, unix.EFAULT:
			return codeMemory
		case unix.EINVAL:
			return codeInvalid
		}
	}
	return codeFailed
}

// appendError appends the error reply for err: "E.text" when the client
// accepts text, else "E" and the code. The text is kept to printable
// ASCII, because gdb does not unescape error replies, and to
// maxErrorText bytes: a longer one loses its middle, since it starts with
// what failed and ends with why (a long path in between).
func appendError(dst []byte, err error, text bool) []byte {
	if !text {
		return appendHexByte(append(dst, 'E'), errorCode(err))
	}
	dst = append(dst, 'E', '.')
	msg := err.Error()
	if len(msg) > maxErrorText {
		const cut = "..."
		head := (maxErrorText - len(cut)) / 2
		msg = msg[:head] + cut + msg[len(msg)-(maxErrorText-len(cut)-head):]
	}
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c < ' ' || c > '~' || needsEscape[c] {
			c = '?'
		}
		dst = append(dst, c)
	}
	return dst
}

// appendLLDBError appends the error reply for err in lldb's form,
// "EXX;HEX-TEXT".
func appendLLDBError(dst []byte, err error) []byte {
	dst = appendHexByte(append(dst, 'E'), errorCode(err))
	msg := err.Error()
	if len(msg) > maxErrorText {
		msg = msg[:maxErrorText]
	}
	return appendHex(append(dst, ';'), []byte(msg))
}
