/*
 * libxl_qmp.c - a small QMP client: runs one command on the QEMU (device
 * model) of a domain, through the socket libxl gives it,
 * LIBXL_QMP_SOCKET_DIR/qmp-libxl-<domid>.  See libxl_internal.h.
 *
 * One exchange is: connect, read the greeting, qmp_capabilities, the
 * command, its reply, close; a sub-operation of the caller's ao, each
 * step run from the event loop when the socket is ready, the whole
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
#include <unistd.h>

#include "libxl_json.h"

/* The longest message accepted from QEMU, newline included. */
#define QMP_MSG_MAX (64 * 1024)

/* Where an exchange is: what the next message from QEMU must be. */
enum {
    QMP_STATE_IDLE,
    QMP_STATE_GREETING,
    QMP_STATE_CAPABILITIES,     /* the reply to qmp_capabilities, id 1 */
    QMP_STATE_COMMAND,          /* the reply to the command, id 2 */
};

void libxl__ev_qmp_init(libxl__ev_qmp *ev)
{
    ev->path = NULL;
    ev->cmd = NULL;
    ev->args = NULL;
    ev->state = QMP_STATE_IDLE;
    ev->fd = -1;
    libxl__ev_fd_init(&ev->efd);
    libxl__ev_time_init(&ev->timeout);
    ev->tx = NULL;
    ev->tx_len = ev->tx_done = 0;
    ev->rx = NULL;
    ev->rx_len = 0;
}

/* Ends the exchange: everything released, then the callback. */
static void qmp_done(libxl__egc *egc, libxl__ev_qmp *ev, int rc)
{
    EGC_GC;

    libxl__ev_fd_deregister(gc, &ev->efd);
    libxl__ev_time_deregister(gc, &ev->timeout);
    if (ev->fd >= 0) close(ev->fd);
    free(ev->rx);
    libxl__ev_qmp_init(ev);
    ev->callback(egc, ev, rc);
}

static void qmp_timedout(libxl__egc *egc, libxl__ev_time *t,
                         const struct timeval *requested_abs, int rc)
{
    libxl__ev_qmp *ev = CONTAINER_OF(t, *ev, timeout);
    EGC_GC;

    (void)requested_abs;
    LOGD(ERROR, ev->domid, "QMP: QEMU at %s did not answer within %d s",
         ev->path, LIBXL_QMP_TIMEOUT);
    qmp_done(egc, ev, rc);
}

static int qmp_connect(libxl__gc *gc, libxl__ev_qmp *ev)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    if (strlen(ev->path) >= sizeof(addr.sun_path)) {
        LOGD(ERROR, ev->domid, "QMP: socket path %s is too long", ev->path);
        return ERROR_FAIL;
    }
    strcpy(addr.sun_path, ev->path);
    ev->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (ev->fd < 0) {
        LOGED(ERROR, ev->domid, "QMP: cannot make a socket");
        return ERROR_FAIL;
    }
    /* A unix socket connects at once or not at all (EAGAIN: QEMU's
     * backlog is full, QEMU is stuck). */
    if (!connect(ev->fd, (struct sockaddr *)&addr, sizeof(addr)))
        return 0;
    if (errno == ENOENT || errno == ECONNREFUSED) {
        LOGED(DEBUG, ev->domid, "QMP: no QEMU listens at %s", ev->path);
        return ERROR_NOTFOUND;
    }
    LOGED(ERROR, ev->domid, "QMP: cannot connect to %s", ev->path);
    return ERROR_FAIL;
}

/* Queues {"execute": cmd, "arguments": {args...}, "id": id}. */
static int qmp_send(libxl__gc *gc, libxl__ev_qmp *ev, const char *cmd,
                    const char *const *args, int id)
{
    yajl_gen hand = libxl__yajl_gen_alloc();
    yajl_gen_status s;
    const unsigned char *buf;
    size_t len;
    int rc;

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
        LOGD(ERROR, ev->domid, "QMP: cannot encode %s: yajl error %d", cmd,
             s);
        rc = ERROR_FAIL;
        goto out;
    }
    /* In the ao's arena: sent over several turns of the loop. */
    ev->tx = libxl__sprintf(libxl__ao_inprogress_gc(ev->ao), "%s\n",
                            (const char *)buf);
    ev->tx_len = len + 1;
    ev->tx_done = 0;
    rc = libxl__ev_fd_modify(gc, &ev->efd, POLLIN | POLLOUT);
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

/* Turns QEMU's reply to cmd, id, into an rc, logging an error with its
 * description. */
static int qmp_reply_rc(libxl__gc *gc, libxl__ev_qmp *ev, const char *cmd,
                        int id, yajl_val msg)
{
    yajl_val msgid = qmp_member(msg, "id");
    yajl_val err = qmp_member(msg, "error");
    yajl_val cls = qmp_member(err, "class");
    yajl_val desc = qmp_member(err, "desc");
    int rc;

    if (!YAJL_IS_INTEGER(msgid) || YAJL_GET_INTEGER(msgid) != id) {
        LOGD(ERROR, ev->domid, "QMP: %s: a reply to something else from "
             "%s", cmd, ev->path);
        return ERROR_PROTOCOL_ERROR_QMP;
    }
    if (qmp_member(msg, "return")) return 0;
    if (!YAJL_IS_STRING(cls) || !YAJL_IS_STRING(desc)) {
        LOGD(ERROR, ev->domid, "QMP: %s: a reply with neither a return "
             "nor an error from %s", cmd, ev->path);
        return ERROR_PROTOCOL_ERROR_QMP;
    }
    rc = qmp_error_class_to_rc(YAJL_GET_STRING(cls));
    if (rc == ERROR_QMP_DEVICE_NOT_FOUND)
        LOGD(DEBUG, ev->domid, "QMP: %s: %s", cmd, YAJL_GET_STRING(desc));
    else
        LOGD(ERROR, ev->domid, "QMP: %s failed: %s (%s)", cmd,
             YAJL_GET_STRING(desc), YAJL_GET_STRING(cls));
    return rc;
}

/*
 * One message from QEMU, as the state expects it: the greeting, or the
 * reply to what we sent (events before it are skipped).  Returns 0 to go
 * on, 1 when the exchange is over with rc 0, or an error.
 */
static int qmp_handle_msg(libxl__gc *gc, libxl__ev_qmp *ev, yajl_val msg)
{
    int rc;

    if (ev->state != QMP_STATE_GREETING && qmp_member(msg, "event")) {
        LOGD(DEBUG, ev->domid, "QMP: skipping an event");
        return 0;
    }
    /* QEMU answers a command once it has read it all, not before. */
    if (ev->tx_done < ev->tx_len) {
        LOGD(ERROR, ev->domid, "QMP: %s answered a command not sent yet",
             ev->path);
        return ERROR_PROTOCOL_ERROR_QMP;
    }
    switch (ev->state) {
    case QMP_STATE_GREETING:
        if (!YAJL_IS_OBJECT(qmp_member(msg, "QMP"))) {
            LOGD(ERROR, ev->domid, "QMP: %s did not greet as QEMU does",
                 ev->path);
            return ERROR_PROTOCOL_ERROR_QMP;
        }
        ev->state = QMP_STATE_CAPABILITIES;
        return qmp_send(gc, ev, "qmp_capabilities", NULL, 1);
    case QMP_STATE_CAPABILITIES:
        rc = qmp_reply_rc(gc, ev, "qmp_capabilities", 1, msg);
        if (rc) return rc;
        ev->state = QMP_STATE_COMMAND;
        return qmp_send(gc, ev, ev->cmd, ev->args, 2);
    default:
        rc = qmp_reply_rc(gc, ev, ev->cmd, 2, msg);
        return rc ? rc : 1;
    }
}

/* Handles every whole line received.  As qmp_handle_msg returns. */
static int qmp_handle_lines(libxl__gc *gc, libxl__ev_qmp *ev)
{
    yajl_val msg;
    char *nl, *line;
    size_t n;
    int rc = 0;

    while (!rc && (nl = memchr(ev->rx, '\n', ev->rx_len))) {
        n = nl - ev->rx + 1;
        line = libxl__zalloc(gc, n);
        memcpy(line, ev->rx, n - 1);
        memmove(ev->rx, ev->rx + n, ev->rx_len - n);
        ev->rx_len -= n;

        msg = libxl__json_parse(gc, "QMP message", line);
        if (!msg) return ERROR_PROTOCOL_ERROR_QMP;
        if (YAJL_IS_OBJECT(msg)) {
            rc = qmp_handle_msg(gc, ev, msg);
        } else {
            LOGD(ERROR, ev->domid, "QMP: \"%s\" from %s is not an object",
                 line, ev->path);
            rc = ERROR_PROTOCOL_ERROR_QMP;
        }
        yajl_tree_free(msg);
    }
    return rc;
}

/* What QEMU sent, as qmp_handle_msg returns. */
static int qmp_receive(libxl__gc *gc, libxl__ev_qmp *ev)
{
    ssize_t got;

    if (ev->rx_len == QMP_MSG_MAX) {
        LOGD(ERROR, ev->domid, "QMP: a message from %s is longer than %d "
             "bytes", ev->path, QMP_MSG_MAX);
        return ERROR_PROTOCOL_ERROR_QMP;
    }
    got = read(ev->fd, ev->rx + ev->rx_len, QMP_MSG_MAX - ev->rx_len);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
    if (got <= 0) {
        if (got < 0) LOGED(ERROR, ev->domid, "QMP: read from %s", ev->path);
        else LOGD(ERROR, ev->domid, "QMP: QEMU closed %s", ev->path);
        return ERROR_PROTOCOL_ERROR_QMP;
    }
    if (memchr(ev->rx + ev->rx_len, 0, got)) {
        LOGD(ERROR, ev->domid, "QMP: a NUL byte from %s", ev->path);
        return ERROR_PROTOCOL_ERROR_QMP;
    }
    ev->rx_len += got;
    return qmp_handle_lines(gc, ev);
}

static int qmp_transmit(libxl__gc *gc, libxl__ev_qmp *ev)
{
    ssize_t r;

    r = send(ev->fd, ev->tx + ev->tx_done, ev->tx_len - ev->tx_done,
             MSG_NOSIGNAL);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
    if (r < 0) {
        LOGED(ERROR, ev->domid, "QMP: write to %s", ev->path);
        return ERROR_FAIL;
    }
    ev->tx_done += r;
    if (ev->tx_done < ev->tx_len) return 0;
    return libxl__ev_fd_modify(gc, &ev->efd, POLLIN);
}

static void qmp_fd_ready(libxl__egc *egc, libxl__ev_fd *efd, int fd,
                         short events, short revents)
{
    libxl__ev_qmp *ev = CONTAINER_OF(efd, *ev, efd);
    EGC_GC;
    int rc = 0;

    (void)fd;
    (void)events;
    /* What came is read before what we send goes: it came before. A
     * hang-up is read as the end of the stream. */
    if (revents & ~POLLOUT) rc = qmp_receive(gc, ev);
    if (!rc && (revents & POLLOUT)) rc = qmp_transmit(gc, ev);
    if (rc) qmp_done(egc, ev, rc > 0 ? 0 : rc);
}

void libxl__ev_qmp_send(libxl__egc *egc, libxl__ev_qmp *ev, const char *cmd,
                        const char *const *args)
{
    EGC_GC;
    libxl__gc *const ao_gc = libxl__ao_inprogress_gc(ev->ao);
    const char **copy = NULL;
    int i, n = 0, rc;

    /* Kept in the ao's arena: used over several turns of the loop. */
    ev->path = libxl__sprintf(ao_gc, LIBXL_QMP_SOCKET_DIR "/qmp-libxl-%u",
                              ev->domid);
    ev->cmd = libxl__strdup(ao_gc, cmd);
    while (args && args[n])
        n++;
    if (args) {
        copy = libxl__calloc(ao_gc, n + 1, sizeof(*copy));
        for (i = 0; i < n; i++)
            copy[i] = libxl__strdup(ao_gc, args[i]);
    }
    ev->args = copy;
    ev->state = QMP_STATE_GREETING;
    rc = qmp_connect(gc, ev);
    if (rc) goto out;
    ev->rx = libxl__zalloc(NOGC, QMP_MSG_MAX);
    rc = libxl__ev_fd_register(gc, &ev->efd, qmp_fd_ready, ev->fd, POLLIN);
    if (rc) goto out;
    rc = libxl__ev_time_register_rel(ev->ao, &ev->timeout, qmp_timedout,
                                     LIBXL_QMP_TIMEOUT * 1000);
    if (rc) goto out;
    return;

out:
    qmp_done(egc, ev, rc);
}
