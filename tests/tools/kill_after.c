/*
 * lwss-kill-after: run a command and SIGKILL it after a given number of
 * microseconds (a power cut at a chosen moment), for scripts/powercut.sh.
 *   lwss-kill-after USEC command [args...]
 * USEC < 0: never kill, just time it.  Prints "killed ELAPSED_US" or
 * "exited STATUS ELAPSED_US" on stdout; exit 0 unless the command could not
 * be started (127) or the arguments are wrong (2).  The command's output
 * goes to /dev/null.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: lwss-kill-after USEC command [args...]\n");
        return 2;
    }
    long long delay = atoll(argv[1]);
    long long t0 = now_us();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 127;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    int status = 0;
    if (delay >= 0) {
        struct timespec ts = {.tv_sec = delay / 1000000, .tv_nsec = (delay % 1000000) * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        if (waitpid(pid, &status, WNOHANG) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            printf("killed %lld\n", now_us() - t0);
            return 0;
        }
    } else {
        waitpid(pid, &status, 0);
    }
    long long took = now_us() - t0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        return 127;
    }
    printf("exited %d %lld\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), took);
    return 0;
}
