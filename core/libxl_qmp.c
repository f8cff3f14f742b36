/*
 * libxl_qmp.c - a small QMP client: runs one command on the QEMU (device
 * model) of a domain, through the socket libxl gives it,
 * LIBXL_QMP_SOCKET_DIR/qmp-libxl-<domid>.  See libxl_internal.h.
 *
 * One exchange is: connect, read the greeting, qmp_capabilities, the
 * command, its reply, close.  It is synchronous, inside the caller's ao:
 * QEMU answers these commands in milliseconds, and the whole exchange is
 * bounded by LIBXL_QMP_TIMEOUT.  QEMU's text is not trusted: messages are
 * read into a bounded buffer, must be one JSON object per line, and are
 * parsed strictly; asynchronous events between our replies are skipped.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "libxl_osdeps.h" /* must come before any other headers */

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "libxl_json.h"

/* The longest message accepted from QEMU, newline included. */
#define QMP_MSG_MAX (64 * 1024)

typedef struct {
    libxl__gc *gc;
    uint32_t domid;
    const char *path;
    int fd;
    long long deadline_ms;          /* CLOCK_MONOTONIC */
    size_t len;                     /* bytes held in buf */
    char buf[QMP_MSG_MAX + 1];
} qmp_conn;

static long long monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events; ERROR_TIMEDOUT past the deadline. */
static int qmp_wait(qmp_conn *q, short events)
{
    libxl__gc *gc = q->gc;
    struct pollfd pfd = { .fd = q->fd, .events = events };
    long long left;
    int r;

    for (;;) {
        left = q->deadline_ms - monotonic_ms();
        if (left <= 0) {
            LOGD(ERROR, q->domid, "QMP: QEMU at %s did not answer within "
                 "%d s", q->path, LIBXL_QMP_TIMEOUT);
            return ERROR_TIMEDOUT;
        }
        r = poll(&pfd, 1, left);
        if (r > 0) return 0;
        if (r < 0 && errno != EINTR) {
            LOGED(ERROR, q->domid, "QMP: poll on %s", q->path);
            return ERROR_FAIL;
        }
    }
}

static int qmp_connect(qmp_conn *q)
{
    libxl__gc *gc = q->gc;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    if (strlen(q->path) >= sizeof(addr.sun_path)) {
        LOGD(ERROR, q->domid, "QMP: socket path %s is too long", q->path);
        return ERROR_FAIL;
    }
    strcpy(addr.sun_path, q->path);
    q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (q->fd < 0) {
        LOGED(ERROR, q->domid, "QMP: cannot make a socket");
        return ERROR_FAIL;
    }
    if (!connect(q->fd, (struct sockaddr *)&addr, sizeof(addr)))
        return 0;
    if (errno == ENOENT || errno == ECONNREFUSED) {
        LOGED(DEBUG, q->domid, "QMP: no QEMU listens at %s", q->path);
        return ERROR_NOTFOUND;
    }
    LOGED(ERROR, q->domid, "QMP: cannot connect to %s", q->path);
    return ERROR_FAIL;
}

/* The next message from QEMU: a JSON object (free it with yajl_tree_free). */
static int qmp_read_msg(qmp_conn *q, yajl_val *msg_r)
{
    libxl__gc *gc = q->gc;
    char *nl, *line;
    ssize_t got;
    size_t n;
    int rc;

    while (!(nl = memchr(q->buf, '\n', q->len))) {
        if (q->len == QMP_MSG_MAX) {
            LOGD(ERROR, q->domid, "QMP: a message from %s is longer than "
                 "%d bytes", q->path, QMP_MSG_MAX);
            return ERROR_PROTOCOL_ERROR_QMP;
        }
        rc = qmp_wait(q, POLLIN);
        if (rc) return rc;
        got = read(q->fd, q->buf + q->len, QMP_MSG_MAX - q->len);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            if (got < 0) LOGED(ERROR, q->domid, "QMP: read from %s", q->path);
            else LOGD(ERROR, q->domid, "QMP: QEMU closed %s", q->path);
            return ERROR_PROTOCOL_ERROR_QMP;
        }
        if (memchr(q->buf + q->len, 0, got)) {
            LOGD(ERROR, q->domid, "QMP: a NUL byte from %s", q->path);
            return ERROR_PROTOCOL_ERROR_QMP;
        }
        q->len += got;
    }
    n = nl - q->buf + 1;
    line = libxl__zalloc(gc, n);
    memcpy(line, q->buf, n - 1);
    line[n - 1] = 0;
    memmove(q->buf, q->buf + n, q->len - n);
    q->len -= n;

    *msg_r = libxl__json_parse(gc, "QMP message", line);
    if (!*msg_r) return ERROR_PROTOCOL_ERROR_QMP;
    if (!YAJL_IS_OBJECT(*msg_r)) {
        LOGD(ERROR, q->domid, "QMP: \"%s\" from %s is not an object", line,
             q->path);
        yajl_tree_free(*msg_r);
        return ERROR_PROTOCOL_ERROR_QMP;
    }
    return 0;
}

/* Sends {"execute": cmd, "arguments": {args...}, "id": id}. */
static int qmp_send(qmp_conn *q, const char *cmd, const char *const *args,
                    int id)
{
    libxl__gc *gc = q->gc;
    yajl_gen hand = libxl__yajl_gen_alloc();
    yajl_gen_status s;
    const unsigned char *buf;
    size_t len, done = 0;
    ssize_t r;
    int rc = 0;

    yajl_gen_config(hand, yajl_gen_beautify, 0);     /* one line */
    s = yajl_gen_map_open(hand);
    if (!s) s = libxl__yajl_gen_asciiz(hand, "execute");
    if (!s) s = libxl__yajl_gen_asciiz(hand, cmd);
    if (!s && args) {
        s = libxl__yajl_gen_asciiz(hand, "arguments");
        if (!s) s = yajl_gen_map_open(hand);
        for (; !s && *args; args++)
            s = libxl__yajl_gen_asciiz(hand, *args);
        if (!s) s = yajl_gen_map_close(hand);
    }
    if (!s) s = libxl__yajl_gen_asciiz(hand, "id");
    if (!s) s = yajl_gen_integer(hand, id);
    if (!s) s = yajl_gen_map_close(hand);
    if (!s) s = yajl_gen_get_buf(hand, &buf, &len);
    if (s) {
        LOGD(ERROR, q->domid, "QMP: cannot encode %s: yajl error %d", cmd,
             s);
        rc = ERROR_FAIL;
        goto out;
    }
    buf = (const unsigned char *)GCSPRINTF("%s\n", (const char *)buf);
    len++;
    while (done < len) {
        rc = qmp_wait(q, POLLOUT);
        if (rc) goto out;
        r = send(q->fd, buf + done, len - done, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            LOGED(ERROR, q->domid, "QMP: write to %s", q->path);
            rc = ERROR_FAIL;
            goto out;
        }
        done += r;
    }
out:
    yajl_gen_free(hand);
    return rc;
}

/* The member key of o, or NULL if o is not an object or has none. */
static yajl_val qmp_member(yajl_val o, const char *key)
{
    return YAJL_IS_OBJECT(o) ? libxl__json_map_get(o, key) : NULL;
}

/* QMP's error classes as libxl's error codes. */
static int qmp_error_class_to_rc(const char *cls)
{
    static const struct { const char *cls; int rc; } map[] = {
        { "GenericError",    ERROR_QMP_GENERIC_ERROR },
        { "CommandNotFound", ERROR_QMP_COMMAND_NOT_FOUND },
        { "DeviceNotActive", ERROR_QMP_DEVICE_NOT_ACTIVE },
        { "DeviceNotFound",  ERROR_QMP_DEVICE_NOT_FOUND },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(map); i++)
        if (!strcmp(cls, map[i].cls)) return map[i].rc;
    return ERROR_UNKNOWN_QMP_ERROR;
}

/* Turns QEMU's reply into an rc, logging an error with its description. */
static int qmp_reply_rc(qmp_conn *q, const char *cmd, yajl_val msg)
{
    libxl__gc *gc = q->gc;
    yajl_val err = qmp_member(msg, "error");
    yajl_val cls = qmp_member(err, "class");
    yajl_val desc = qmp_member(err, "desc");
    int rc;

    if (qmp_member(msg, "return")) return 0;
    if (!YAJL_IS_STRING(cls) || !YAJL_IS_STRING(desc)) {
        LOGD(ERROR, q->domid, "QMP: %s: a reply with neither a return nor "
             "an error from %s", cmd, q->path);
        return ERROR_PROTOCOL_ERROR_QMP;
    }
    rc = qmp_error_class_to_rc(YAJL_GET_STRING(cls));
    if (rc == ERROR_QMP_DEVICE_NOT_FOUND)
        LOGD(DEBUG, q->domid, "QMP: %s: %s", cmd, YAJL_GET_STRING(desc));
    else
        LOGD(ERROR, q->domid, "QMP: %s failed: %s (%s)", cmd,
             YAJL_GET_STRING(desc), YAJL_GET_STRING(cls));
    return rc;
}

/* The reply to command id, skipping the events that come before it. */
static int qmp_await_reply(qmp_conn *q, const char *cmd, int id)
{
    libxl__gc *gc = q->gc;
    yajl_val msg, msgid;
    int rc;

    for (;;) {
        rc = qmp_read_msg(q, &msg);
        if (rc) return rc;
        if (qmp_member(msg, "event")) {
            LOGD(DEBUG, q->domid, "QMP: skipping an event");
            yajl_tree_free(msg);
            continue;
        }
        msgid = qmp_member(msg, "id");
        if (YAJL_IS_INTEGER(msgid) && YAJL_GET_INTEGER(msgid) == id)
            rc = qmp_reply_rc(q, cmd, msg);
        else {
            LOGD(ERROR, q->domid, "QMP: %s: a reply to something else "
                 "from %s", cmd, q->path);
            rc = ERROR_PROTOCOL_ERROR_QMP;
        }
        yajl_tree_free(msg);
        return rc;
    }
}

static int qmp_greeting(qmp_conn *q)
{
    libxl__gc *gc = q->gc;
    yajl_val msg;
    int rc;

    rc = qmp_read_msg(q, &msg);
    if (rc) return rc;
    if (!YAJL_IS_OBJECT(qmp_member(msg, "QMP"))) {
        LOGD(ERROR, q->domid, "QMP: %s did not greet as QEMU does", q->path);
        rc = ERROR_PROTOCOL_ERROR_QMP;
    }
    yajl_tree_free(msg);
    return rc;
}

int libxl__qmp_run(libxl__gc *gc, uint32_t domid, const char *cmd,
                   const char *const *args)
{
    qmp_conn *q;
    int rc;

    GCNEW(q);
    q->gc = gc;
    q->domid = domid;
    q->path = GCSPRINTF(LIBXL_QMP_SOCKET_DIR "/qmp-libxl-%u", domid);
    q->fd = -1;
    q->deadline_ms = monotonic_ms() + LIBXL_QMP_TIMEOUT * 1000LL;

    rc = qmp_connect(q);
    if (rc) goto out;
    rc = qmp_greeting(q);
    if (rc) goto out;
    rc = qmp_send(q, "qmp_capabilities", NULL, 1);
    if (rc) goto out;
    rc = qmp_await_reply(q, "qmp_capabilities", 1);
    if (rc) goto out;
    rc = qmp_send(q, cmd, args, 2);
    if (rc) goto out;
    rc = qmp_await_reply(q, cmd, 2);
out:
    if (q->fd >= 0) close(q->fd);
    return rc;
}
