# SPDX-License-Identifier: GPL-2.0-or-later
# hostile.py CMD...: exec CMD with what a user can hand down through su:
# nice 19, SCHED_IDLE, one CPU, tiny rlimits (a file size of 1 byte: write
# CMD's output to a pipe), signals ignored and blocked, oom_score_adj 900,
# umask 077.
import os, resource, signal, sys
os.nice(19)
try:
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
except OSError:
    pass
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
for r, v in ((resource.RLIMIT_FSIZE, 1), (resource.RLIMIT_NOFILE, 64), (resource.RLIMIT_CPU, 60),
             (resource.RLIMIT_STACK, 256 * 1024)):
    resource.setrlimit(r, (v, resource.getrlimit(r)[1]))
for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM):
    signal.signal(s, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGQUIT, signal.SIGCHLD})
with open("/proc/self/oom_score_adj", "w") as f:
    f.write("900")
os.umask(0o077)
os.execvp(sys.argv[1], sys.argv[1:])
