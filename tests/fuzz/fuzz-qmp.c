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
 * made (non-blocking).  A thread is QEMU on the other end: it sends the
 * input line by line, each line that is not an event (a reply, or
 * anything else) only once the client has sent as many lines as replies
 * went before it, as QEMU answers a command only once it has read it;
 * then it shuts its end down, so that the client always reaches the end
 * of the stream (EOF) rather than its 10 s timeout.
 *
 * The first byte is not stream: its bits 0-1 choose the command run (with
 * or without arguments); with bit 2, the stream starts with a greeting
 * padded to 65528 + (bits 3-6) bytes, newline included, around the 64 KiB
 * a message may have (docs/pvusb.md); with bit 7, the stream is sent
 * without waiting for the client (a QEMU answering what it was not asked).
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

/* QEMU's side of the socket, for its thread. */
struct qemu {
    int fd;
    const char *buf;            /* the stream */
    size_t len;
    bool paced;                 /* replies wait for the client's lines */
    char *sent;                 /* what the client sent, NUL-terminated */
    size_t sent_len, sent_cap;
};

/* Whether the line of n bytes at p is not an event: QEMU's reply to a
 * command (or anything else, which the client must refuse), as the
 * client parses it. */
static bool is_reply(const char *p, size_t n)
{
    const char *event_path[] = { "event", NULL };
    char *line = fuzz_strdup((const uint8_t *)p, n);
    yajl_val o = yajl_tree_parse(line, NULL, 0);
    bool reply = !(YAJL_IS_OBJECT(o) &&
                   yajl_tree_get(o, event_path, yajl_t_any));

    yajl_tree_free(o);
    free(line);
    return reply;
}

/* Reads what the client sends; false at its end (it has closed). */
static bool read_client(struct qemu *q)
{
    ssize_t r;

    if (q->sent_len + 1 == q->sent_cap) {
        q->sent_cap *= 2;
        q->sent = realloc(q->sent, q->sent_cap);
        FUZZ_CHECK(q->sent, "out of memory");
    }
    do
        r = read(q->fd, q->sent + q->sent_len,
                 q->sent_cap - 1 - q->sent_len);
    while (r < 0 && errno == EINTR);
    /* Its close of a socket with input unread (ours) resets it. */
    if (!r || (r < 0 && errno == ECONNRESET))
        return false;
    FUZZ_CHECK(r > 0, "read: %s", strerror(errno));
    q->sent_len += r;
    q->sent[q->sent_len] = '\0';
    return true;
}

/* Waits until the client has sent n lines; false if it closed first. */
static bool client_sent_lines(struct qemu *q, size_t n)
{
    for (;;) {
        size_t lines = 0;
        const char *p;

        for (p = q->sent; (p = strchr(p, '\n')); p++)
            lines++;
        if (lines >= n)
            return true;
        if (!read_client(q))
            return false;
    }
}

/* Sends n bytes at p; false if the client has closed. */
static bool send_all(int fd, const char *p, size_t n)
{
    ssize_t r;

    while (n) {
        r = send(fd, p, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        n -= r;
    }
    return true;
}

/* QEMU: sends the stream (until the client closes), then EOF, then reads
 * what the client sent to its end. */
static void *qemu_side(void *arg)
{
    struct qemu *q = arg;
    size_t done = 0, n, replies = 0;
    const char *nl;

    while (done < q->len) {
        nl = memchr(q->buf + done, '\n', q->len - done);
        n = nl ? (size_t)(nl - (q->buf + done)) + 1 : q->len - done;
        if (q->paced && is_reply(q->buf + done, n) &&
            !client_sent_lines(q, replies++))
            break;
        if (!send_all(q->fd, q->buf + done, n))
            break;
        done += n;
    }
    shutdown(q->fd, SHUT_WR);
    while (read_client(q))
        ;
    return NULL;
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
    struct qemu q = { .fd = -1 };
    char *buf, *line, *save = NULL;
    size_t pad = 0, n;
    int sv[2], rc, lines;
    uint8_t b0 = size ? data[0] : 0;
    const char *cmd = cmds[b0 & 3].cmd;
    pthread_t qemu;

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
    q.fd = sv[1];
    q.buf = buf;
    q.len = pad + size;
    q.paced = !(b0 & 0x80);
    q.sent_cap = 4096;
    q.sent = malloc(q.sent_cap);
    FUZZ_CHECK(q.sent, "out of memory");
    q.sent[0] = '\0';
    FUZZ_CHECK(!pthread_create(&qemu, NULL, qemu_side, &q),
               "pthread_create");

    rc = qmp_run(ctx, cmd, cmds[b0 & 3].args);

    pthread_join(qemu, NULL);
    FUZZ_CHECK(client_end < 0, "the client never connected");
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
    n = q.sent_len;
    FUZZ_CHECK(!n || q.sent[n - 1] == '\n', "sent %s", q.sent);
    lines = 0;
    for (line = strtok_r(q.sent, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        FUZZ_CHECK(lines < 2, "sent a third line: %s", line);
        check_sent_line(line, lines ? cmd : "qmp_capabilities", lines + 1);
        lines++;
    }
    FUZZ_CHECK(rc || lines == 2, "a success after %d commands", lines);

    free(q.sent);
    free(buf);
    return 0;
}
