#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal of COLS x ROWS, discarding its screen output
(the benchmark's terminal-UI mode: wsscope draws as it would on a real terminal, nobody
looks). stderr stays the caller's; the command's pid is printed there first ("pid N").
SIGTERM is passed on to the command. Usage: onpty.py COLS ROWS COMMAND [ARG...]"""
import fcntl, os, pty, signal, struct, subprocess, sys, termios

cols, rows, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
env = dict(os.environ, TERM='xterm-256color')
child = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=None, env=env, start_new_session=True)
os.close(slave)
sys.stderr.write('pid %d\n' % child.pid)
sys.stderr.flush()
signal.signal(signal.SIGTERM, lambda *_: child.terminate())
while True:
    try:
        if not os.read(master, 1 << 16):
            break
    except InterruptedError:
        continue
    except OSError:  # EIO: the command closed its side
        break
sys.exit(child.wait())
