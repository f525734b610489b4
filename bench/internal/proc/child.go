package proc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Child is a server under test running as a child process, so that its
// CPU and memory can be read from /proc/PID.
type Child struct {
	Name string
	Cmd  *exec.Cmd
	Log  string // the file holding its stdout and stderr, "" when not StartLogged
	sig  syscall.Signal
	done chan struct{}
}

// Start starts cmd (made with exec.CommandContext, its output already
// directed) and waits up to 10 s until addr accepts TCP connections. When
// cmd's context ends, or on Stop, the child gets sig (SIGTERM or SIGINT,
// whichever the server shuts down on), then SIGKILL after 3 s.
func Start(cmd *exec.Cmd, name, addr string, sig syscall.Signal) (*Child, error) {
	cmd.Cancel = func() error { return cmd.Process.Signal(sig) }
	cmd.WaitDelay = 3 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &Child{Name: name, Cmd: cmd, sig: sig, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	if err := WaitTCP(addr, 10*time.Second, c.done); err != nil {
		c.Stop()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// StartLogged is Start with the child's stdout and stderr in the file
// logPath (created or truncated), named in the error when it fails to come up.
func StartLogged(cmd *exec.Cmd, name, addr string, sig syscall.Signal, logPath string) (*Child, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer lf.Close() // the child has its own copy
	cmd.Stdout, cmd.Stderr = lf, lf
	c, err := Start(cmd, name, addr, sig)
	if err != nil {
		return nil, fmt.Errorf("%w (log %s)", err, logPath)
	}
	c.Log = logPath
	return c, nil
}

// WorkDir makes a fresh temporary directory for a run's configurations and
// logs. With keep it stays and its path goes to stderr; otherwise cleanup
// removes it.
func WorkDir(prefix string, keep bool) (dir string, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	if keep {
		fmt.Fprintln(os.Stderr, "work directory:", dir)
		return dir, func() {}, nil
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// Stop sends the stop signal to the child (by its PID), then SIGKILL
// after 3 s, and waits until it has exited.
func (c *Child) Stop() {
	_ = c.Cmd.Process.Signal(c.sig)
	select {
	case <-c.done:
	case <-time.After(3 * time.Second):
		_ = c.Cmd.Process.Kill()
		<-c.done
	}
}

// PID is the child's process id.
func (c *Child) PID() int { return c.Cmd.Process.Pid }

// CPU is the child's utime+stime so far.
func (c *Child) CPU() (time.Duration, error) { return CPU(c.PID()) }

// RSS is the child's VmRSS in bytes.
func (c *Child) RSS() (int64, error) { return RSS(c.PID()) }

// WaitTCP waits until addr accepts a TCP connection, for at most within;
// it gives up early when exited is closed (the server died at start).
func WaitTCP(addr string, within time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-exited:
			return errors.New("exited before listening")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not accepting after %v: %w", addr, within, err)
		}
	}
}
