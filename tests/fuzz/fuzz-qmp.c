/*
 * fuzz-qmp.c - the QMP client (core/libxl_qmp.c) reading what QEMU
 * sends: the input is the byte stream of QEMU's side of the socket.
 *
 * The client runs as the library runs it (libxl_pvusb.c's usb_dm_send):
 * a libxl__ev_qmp sub-operation of a synchronous ao, whose AO_INPROGRESS
 * runs the event loop until the exchange's callback completes the ao.
 * No change to the code under test: it connects to
 * LIBXL_QMP_SOCKET_DIR/qmp-libxl-<domid> as always, and connect() is
 * defined here (it takes precedence over libc's in this program) to hand
 * it one end of a socketpair instead, with the flags of the socket it
 * made (non-blocking).  The input is written into the other end (at once,
 * or from a thread if it does not fit in the socket's buffer), then shuts
 * it down, so that the client always reaches the end of the stream (EOF)
 * rather than its 10 s timeout.
 *
 * The first byte is not stream: its bits 0-1 choose the command run (with
 * or without arguments); with bit 2, the stream starts with a greeting
 * padded to 65528 + (bits 3-6) bytes, newline included, around the 64 KiB
 * a message may have (docs/pvusb.md).
 *
 * Checked: the result is one of the codes libxl_pvusb.h documents for a
 * QEMU's answer; a greeting over 64 KiB is refused; the client sends
 * qmp_capabilities (id 1) then the command (id 2), each one JSON object
 * on a line, and both whenever the result is a success.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "libxl_osdeps.h" /* as the core's sources, first */

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "libxl_internal.h"
#include "fuzz.h"

#define DOMID 7
#define QMP_PATH LIBXL_QMP_SOCKET_DIR "/qmp-libxl-7"
#define MSG_MAX (64 * 1024)            /* docs/pvusb.md: at most 64 KiB */
#define PAD_BASE (MSG_MAX - 8)

/* The client's end of the socketpair, until connect() hands it over. */
static int client_end = -1;

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    const struct sockaddr_un *un = (const struct sockaddr_un *)addr;
    int flags;

    FUZZ_CHECK(addr->sa_family == AF_UNIX && len > sizeof(sa_family_t),
               "connect to something else than a unix socket");
    FUZZ_CHECK(!strcmp(un->sun_path, QMP_PATH), "connect to %s",
               un->sun_path);
    FUZZ_CHECK(client_end >= 0, "a second connect");
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || dup3(client_end, fd, O_CLOEXEC) < 0 ||
        fcntl(fd, F_SETFL, flags) < 0)
        return -1;
    close(client_end);
    client_end = -1;
    return 0;
}

static void qmp_replied(libxl__egc *egc, libxl__ev_qmp *qmp, int rc)
{
    libxl__ao_complete(egc, qmp->ao, rc);
}

/* cmd with args to the QEMU of DOMID, in an ao that waits for it. */
static int qmp_run(libxl_ctx *ctx, const char *cmd, const char *const *args)
{
    AO_CREATE(ctx, DOMID, NULL);
    EGC_INIT(ctx);
    libxl__ev_qmp *qmp;

    GCNEW(qmp);
    libxl__ev_qmp_init(qmp);
    qmp->ao = ao;
    qmp->domid = DOMID;
    qmp->callback = qmp_replied;
    libxl__ev_qmp_send(egc, qmp, cmd, args);
    EGC_FREE;
    return AO_INPROGRESS;
}

struct stream {
    int fd;
    const char *buf;
    size_t len;
};

/* QEMU's side: sends it all (or until the client closes), then EOF. */
static void *qemu_writes(void *arg)
{
    struct stream *s = arg;
    size_t done = 0;
    ssize_t r;

    while (done < s->len) {
        r = send(s->fd, s->buf + done, s->len - done, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;          /* the client has closed: it is done reading */
        done += r;
    }
    shutdown(s->fd, SHUT_WR);
    return NULL;
}

/* What the client sent, read to its EOF (it has closed). */
static char *client_sent(int fd)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    ssize_t r;

    FUZZ_CHECK(buf, "out of memory");
    for (;;) {
        if (len + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            FUZZ_CHECK(buf, "out of memory");
        }
        r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        /* Its close of a socket with input unread (ours) resets it. */
        if (!r || (r < 0 && errno == ECONNRESET))
            break;
        FUZZ_CHECK(r > 0, "read: %s", strerror(errno));
        len += r;
    }
    buf[len] = '\0';
    return buf;
}

/* Line n (0, 1) of what the client sent is {"execute": cmd, ..., "id": n+1}. */
static void check_sent_line(char *line, const char *cmd, int id)
{
    const char *exec_path[] = { "execute", NULL };
    const char *id_path[] = { "id", NULL };
    char err[128];
    yajl_val o = yajl_tree_parse(line, err, sizeof(err));
    yajl_val v;

    FUZZ_CHECK(o && YAJL_IS_OBJECT(o), "sent %s", line);
    v = yajl_tree_get(o, exec_path, yajl_t_string);
    FUZZ_CHECK(v && !strcmp(YAJL_GET_STRING(v), cmd), "sent %s", line);
    v = yajl_tree_get(o, id_path, yajl_t_number);
    FUZZ_CHECK(v && YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) == id,
               "sent %s", line);
    yajl_tree_free(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const add_args[] = {
        "id", "xenusb-1-2", "driver", "usb-host", "bus", "xenusb-0.0",
        "port", "1", "hostbus", "1", "hostaddr", "2", NULL
    };
    static const char *const del_args[] = { "id", "xenusb-0", NULL };
    static const struct {
        const char *cmd;
        const char *const *args;
    } cmds[4] = {
        { "device_del", del_args }, { "device_add", add_args },
        { "query-status", NULL }, { "device_del", del_args },
    };
    libxl_ctx *ctx = fuzz_ctx();
    struct stream s = { .fd = -1 };
    char *buf, *sent, *line, *save = NULL;
    size_t pad = 0, n;
    int sv[2], rc, lines;
    uint8_t b0 = size ? data[0] : 0;
    const char *cmd = cmds[b0 & 3].cmd;
    pthread_t writer;
    bool threaded;

    if (size) {
        data++;
        size--;
    }
    if (b0 & 4)
        pad = PAD_BASE + ((b0 >> 3) & 15);
    buf = malloc(pad + size + 1);
    FUZZ_CHECK(buf, "out of memory");
    if (pad) {
        static const char head[] = "{\"QMP\": {\"pad\": \"";
        static const char tail[] = "\"}}\n";

        memcpy(buf, head, strlen(head));
        memset(buf + strlen(head), 'p', pad - strlen(head) - strlen(tail));
        memcpy(buf + pad - strlen(tail), tail, strlen(tail));
    }
    memcpy(buf + pad, data, size);

    FUZZ_CHECK(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
               "socketpair: %s", strerror(errno));
    client_end = sv[0];
    s.fd = sv[1];
    s.buf = buf;
    s.len = pad + size;
    /* What fits in the socket's buffer (all, usually) is sent at once;
     * a thread sends the rest as the client reads. */
    while (s.len) {
        ssize_t r = send(s.fd, s.buf, s.len, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (r <= 0)
            break;
        s.buf += r;
        s.len -= r;
    }
    threaded = s.len > 0;
    if (threaded)
        FUZZ_CHECK(!pthread_create(&writer, NULL, qemu_writes, &s),
                   "pthread_create");
    else
        shutdown(s.fd, SHUT_WR);

    rc = qmp_run(ctx, cmd, cmds[b0 & 3].args);

    if (threaded)
        pthread_join(writer, NULL);
    FUZZ_CHECK(client_end < 0, "the client never connected");
    sent = client_sent(sv[1]);
    close(sv[1]);

    FUZZ_CHECK(rc == 0 || rc == ERROR_PROTOCOL_ERROR_QMP ||
               rc == ERROR_UNKNOWN_QMP_ERROR ||
               rc == ERROR_QMP_GENERIC_ERROR ||
               rc == ERROR_QMP_COMMAND_NOT_FOUND ||
               rc == ERROR_QMP_DEVICE_NOT_ACTIVE ||
               rc == ERROR_QMP_DEVICE_NOT_FOUND,
               "result %d for what QEMU sent", rc);
    if (pad > MSG_MAX)
        FUZZ_CHECK(rc == ERROR_PROTOCOL_ERROR_QMP,
                   "a %zu-byte greeting: result %d", pad, rc);

    /* Every line it sent ends with a newline. */
    n = strlen(sent);
    FUZZ_CHECK(!n || sent[n - 1] == '\n', "sent %s", sent);
    lines = 0;
    for (line = strtok_r(sent, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        FUZZ_CHECK(lines < 2, "sent a third line: %s", line);
        check_sent_line(line, lines ? cmd : "qmp_capabilities", lines + 1);
        lines++;
    }
    FUZZ_CHECK(rc || lines == 2, "a success after %d commands", lines);

    free(sent);
    free(buf);
    return 0;
}
