/*
 * list.c - usb-list and usb-assignable-list, as text or JSON.
 *
 * The JSON is made of the generated types' own JSON (libxl_*_gen_json),
 * inside a structure documented in xlusb(1):
 *   usb-list:            [ { "domid", "name", "controllers": [
 *                              { "controller": usbctrlinfo,
 *                                "devices": [ { "busid", "device": usbdev,
 *                                               "host": usb_hostdev|null,
 *                                               "state" }
 *                              ] } ],
 *                            "declared_controllers": [ usbctrl ],
 *                            "declared_devices": [
 *                              { "declaration": usbdev_decl, "state",
 *                                "busid": string|null } ] } ]
 *   usb-assignable-list: [ usb_hostdev... ]
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "xlusb.h"
#include "_libxl_pvusb_types_json.h"

/* What usb-list shows of one domain. */
struct dom_usb {
    uint32_t domid;
    char *name;
    libxl_usbctrlinfo *infos;       /* one per controller */
    int nctrls;
    libxl_device_usbdev *devs;
    char **busids;                  /* one per device */
    libxl_usb_hostdev *hosts;       /* one per device; busid NULL if
                                     * unplugged or unreadable */
    int ndevs;
    libxl_domain_usb_config decl;   /* what its uuid declares */
    char **found;                   /* where each declared device is */
    const char **states;            /* and its state (decl_state) */
};

/*
 * A declared device's state: "attached" (as declared), "present" (on the
 * host, not attached: usb-reconcile attaches it), "absent" (unplugged),
 * "refused" (another device is at its port), "invalid" (a declaration
 * the library refuses).
 */
static const char *decl_state(libxl_ctx *c, const struct dom_usb *d, int j,
                              char **busid_r);
static const char *str_or(const char *s, const char *dflt);

/* Reads d of domid through context c. */
static void dom_usb_get(libxl_ctx *c, uint32_t domid, struct dom_usb *d)
{
    int i;

    memset(d, 0, sizeof(*d));
    d->domid = domid;
    d->name = domain_label_in(c, domid);
    libxl_domain_usb_config_init(&d->decl);
    if (libxl_usb_domain_list(c, domid, &d->infos, &d->nctrls, &d->devs,
                              &d->busids, &d->ndevs))
        return;     /* the library said why: shown as no controllers */
    /* none readable: none shown (the library said why) */
    libxl_usb_declaration_get(c, domid, &d->decl);
    d->hosts = calloc(d->ndevs, sizeof(*d->hosts));
    d->found = calloc(d->decl.num_declared_usbdevs, sizeof(*d->found));
    d->states = calloc(d->decl.num_declared_usbdevs, sizeof(*d->states));
    if ((d->ndevs && !d->hosts) ||
        (d->decl.num_declared_usbdevs && (!d->found || !d->states))) {
        perror("xlusb");
        exit(1);
    }
    for (i = 0; i < d->ndevs; i++) {
        libxl_usb_hostdev_init(&d->hosts[i]);
        /* hostbus 0: unplugged, nothing to read */
        if (d->devs[i].u.hostdev.hostbus &&
            libxl_usb_hostdev_get(c, d->busids[i], &d->hosts[i])) {
            libxl_usb_hostdev_dispose(&d->hosts[i]);
            libxl_usb_hostdev_init(&d->hosts[i]);
        }
    }
    for (i = 0; i < d->decl.num_declared_usbdevs; i++)
        d->states[i] = decl_state(c, d, i, &d->found[i]);
}

/*
 * Many domains are read by several threads, each on a context (so a
 * xenstore connection) of its own: xenstored 4.17 answers one request
 * per connection per turn of its main loop, and each turn walks every
 * domain's connection (~0.2 ms with a thousand domains), so requests
 * on LIST_WORKERS connections share the turns that one connection
 * would wait for alone.  Fewer than LIST_WORKERS * LIST_DOMS_PER_WORKER
 * domains are read here, on ctx.
 */
#define LIST_WORKERS 8
#define LIST_DOMS_PER_WORKER 4

struct list_worker {
    pthread_t thread;
    bool started;
    libxl_ctx *ctx;
    const uint32_t *domids;
    struct dom_usb *doms;
    int first, num, stride;
};

static void *list_worker_run(void *arg)
{
    struct list_worker *w = arg;
    int i;

    for (i = w->first; i < w->num; i += w->stride)
        dom_usb_get(w->ctx, w->domids[i], &w->doms[i]);
    return NULL;
}

/* doms[i] of domids[i], for each of the num domains. */
static void dom_usb_get_all(const uint32_t *domids, int num,
                            struct dom_usb *doms)
{
    struct list_worker w[LIST_WORKERS];
    int i, nw = 1;

    w[0].ctx = ctx;
    if (num >= LIST_WORKERS * LIST_DOMS_PER_WORKER)
        while (nw < LIST_WORKERS && (w[nw].ctx = ctx_another()))
            nw++;
    for (i = 0; i < nw; i++) {
        w[i].domids = domids;
        w[i].doms = doms;
        w[i].first = i;
        w[i].num = num;
        w[i].stride = nw;
        w[i].started = i && !pthread_create(&w[i].thread, NULL,
                                            list_worker_run, &w[i]);
    }
    /* this thread's share, and any a thread could not be made for */
    for (i = 0; i < nw; i++)
        if (!w[i].started)
            list_worker_run(&w[i]);
    for (i = 1; i < nw; i++) {
        if (w[i].started)
            pthread_join(w[i].thread, NULL);
        libxl_ctx_free(w[i].ctx);
    }
}

static void dom_usb_free(struct dom_usb *d)
{
    int i;

    for (i = 0; i < d->nctrls; i++)
        libxl_usbctrlinfo_dispose(&d->infos[i]);
    for (i = 0; i < d->ndevs; i++) {
        free(d->busids[i]);
        libxl_usb_hostdev_dispose(&d->hosts[i]);
    }
    for (i = 0; i < d->decl.num_declared_usbdevs; i++)
        free(d->found[i]);
    free(d->found);
    free(d->states);
    libxl_domain_usb_config_dispose(&d->decl);
    free(d->infos);
    free(d->busids);
    free(d->hosts);
    libxl_device_usbdev_list_free(d->devs, d->ndevs);
    free(d->name);
}

/* Index in d->devs of the device at ctrl:port, or -1. */
static int dom_usb_find(const struct dom_usb *d, int ctrl, int port)
{
    int i;

    for (i = 0; i < d->ndevs; i++)
        if (d->devs[i].ctrl == ctrl && d->devs[i].port == port)
            return i;
    return -1;
}

/* Index in d->decl.declared_usbdevs of the one at ctrl:port, or -1. */
static int dom_usb_find_decl(const struct dom_usb *d, int ctrl, int port)
{
    int i;

    for (i = 0; i < d->decl.num_declared_usbdevs; i++)
        if (d->decl.declared_usbdevs[i].ctrl == ctrl &&
            d->decl.declared_usbdevs[i].port == port)
            return i;
    return -1;
}

static const char *decl_state(libxl_ctx *c, const struct dom_usb *d, int j,
                              char **busid_r)
{
    const libxl_usbdev_decl *decl = &d->decl.declared_usbdevs[j];
    int i = dom_usb_find(d, decl->ctrl, decl->port);

    switch (libxl_usbdev_decl_locate(c, decl, busid_r)) {
    case 0:
        return i >= 0 && !strcmp(d->busids[i], *busid_r) ? "attached"
                                                         : "present";
    case ERROR_NOTFOUND:
        return "absent";
    case ERROR_DEVICE_EXISTS:
        return "refused";
    default:
        return "invalid";
    }
}

/*
 * The state of the device attached at d->devs[i]: "attached"; or
 * "unplugged"; "other" (another device than the declared one is at its
 * busid); "replugged" (a pv port whose device came back on its host
 * drivers).  All but the first are taken off by usb-reconcile.
 */
static const char *dev_state(const struct dom_usb *d, int i)
{
    const libxl_usb_hostdev *dev = d->hosts[i].busid ? &d->hosts[i] : NULL;
    int j = dom_usb_find_decl(d, d->devs[i].ctrl, d->devs[i].port);
    int c;

    if (!dev)
        return "unplugged";
    if (j >= 0 && strcmp(d->states[j], "attached") &&
        strcmp(d->states[j], "invalid"))
        return "other";
    for (c = 0; c < d->nctrls; c++)
        if (d->infos[c].devid == d->devs[i].ctrl &&
            d->infos[c].type == LIBXL_USBCTRL_TYPE_PV &&
            !strstr(str_or(dev->drivers, ""), "usbback"))
            return "replugged";
    return "attached";
}

/* The host device of d->devs[i], or NULL if it is unplugged. */
static const libxl_usb_hostdev *dom_usb_host(const struct dom_usb *d, int i)
{
    return d->hosts[i].busid ? &d->hosts[i] : NULL;
}

static const char *str_or(const char *s, const char *dflt)
{
    return s && *s ? s : dflt;
}

/*----- a device's strings, as they are shown -----*/

/*
 * The length of the UTF-8 character s starts with (1 for ASCII), its code
 * point in *cp; 0 if it is not one (a stray or missing continuation
 * byte, an overlong form, a surrogate, beyond U+10FFFF).
 */
static size_t utf8_char(const unsigned char *s, unsigned long *cp)
{
    size_t n, i;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, *cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, *cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, *cp = s[0] & 0x07;
    else
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        *cp = *cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && *cp < 0x800) || (n == 4 && *cp < 0x10000) ||
        (*cp >= 0xd800 && *cp <= 0xdfff) || *cp > 0x10ffff)
        return 0;
    return n;
}

/* Whether code point cp is shown as it is in a table: not a control
 * character (C0, DEL, C1), nor one that is invisible or reorders the
 * text around it (zero-width and bidirectional marks, line and paragraph
 * separators, BOM). */
static bool shown_as_is(unsigned long cp)
{
    return cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f) &&
           !(cp >= 0x200b && cp <= 0x200f) &&
           !(cp >= 0x2028 && cp <= 0x202e) &&
           !(cp >= 0x2060 && cp <= 0x206f) && cp != 0xfeff;
}

/*
 * Prints s, a string the device chose (its product name), for a
 * terminal: printable characters as they are, a backslash as "\\", every
 * other byte (control characters such as ESC, bytes that are not UTF-8,
 * the invisible characters of shown_as_is) as "\xHH".
 */
static void print_shown(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned long cp;
    size_t n, i;

    while (*p) {
        n = utf8_char(p, &cp);
        if (n && shown_as_is(cp)) {
            if (cp == '\\')
                fputs("\\\\", stdout);
            else
                fwrite(p, 1, n, stdout);
        } else {
            if (!n)
                n = 1;
            for (i = 0; i < n; i++)
                printf("\\x%02x", p[i]);
        }
        p += n;
    }
}

static void print_port(const struct dom_usb *d, int ctrl, int port)
{
    const libxl_usb_hostdev *dev;
    int i = dom_usb_find(d, ctrl, port);

    printf("  Port %d:", port);
    if (i < 0) {
        putchar('\n');
        return;
    }
    printf(" %-10s", str_or(d->busids[i], "?"));
    dev = dom_usb_host(d, i);
    if (!strcmp(dev_state(d, i), "other"))
        printf(" (not the declared device)\n");
    else if (!strcmp(dev_state(d, i), "replugged"))
        printf(" (plugged in again, not attached)\n");
    else if (dev) {
        printf(" Bus %03d Device %03d  ID %04x:%04x  ",
               (int)dev->hostbus, (int)dev->hostaddr, dev->idvendor,
               dev->idproduct);
        print_shown(str_or(dev->product, ""));
        putchar('\n');
    } else
        printf(" (unplugged)\n");
}

/* What the domain's uuid declares, if anything, and where it is. */
static void print_declared(const struct dom_usb *d)
{
    const libxl_device_usbctrl *c;
    const libxl_usbdev_decl *decl;
    int i;

    if (!d->decl.num_declared_usbctrls && !d->decl.num_declared_usbdevs)
        return;
    printf("Declared (xlusb usb-reconcile makes it so):\n");
    for (i = 0; i < d->decl.num_declared_usbctrls; i++) {
        c = &d->decl.declared_usbctrls[i];
        printf("  Controller %d: %s, %d ports\n", c->devid,
               str_or(libxl_usbctrl_type_to_string(c->type), "?"), c->ports);
    }
    for (i = 0; i < d->decl.num_declared_usbdevs; i++) {
        decl = &d->decl.declared_usbdevs[i];
        printf("  %d:%d %-10s ID %04x:%04x  serial ", decl->ctrl,
               decl->port, str_or(decl->busid, "?"), decl->idvendor,
               decl->idproduct);
        print_shown(str_or(decl->serial, "-"));
        printf("  by %s  %s", str_or(
               libxl_usbdev_decl_mode_to_string(decl->mode), "?"),
               d->states[i]);
        if (d->found[i] && strcmp(d->found[i], str_or(decl->busid, "")))
            printf(" at %s", d->found[i]);
        putchar('\n');
    }
}

static void print_dom_usb(const struct dom_usb *d)
{
    const libxl_usbctrlinfo *info;
    int i, port;

    printf("Domain %s (id %u):\n", d->name, d->domid);
    if (!d->nctrls) {
        printf("  no USB controllers\n");
        print_declared(d);
        return;
    }
    printf("%-6s %-12s %-3s %-5s %-7s %s\n", "Devid", "Type", "BE",
           "state", "usb-ver", "ports");
    for (i = 0; i < d->nctrls; i++) {
        info = &d->infos[i];
        printf("%-6d %-12s %-3u %-5d %-7d %d\n", info->devid,
               libxl_usbctrl_type_to_string(info->type), info->backend_id,
               info->state, info->version, info->ports);
        for (port = 1; port <= info->ports; port++)
            print_port(d, info->devid, port);
    }
    print_declared(d);
}

/*----- JSON -----*/

static yajl_gen_status gen_key(yajl_gen g, const char *key)
{
    return yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

/* key: val, a JSON string (each byte of val that is not UTF-8 made
 * U+FFFD, as the generated types' JSON does) or null. */
static yajl_gen_status gen_key_str(yajl_gen g, const char *key,
                                   const char *val)
{
    yajl_gen_status s = gen_key(g, key);

    return s ? s : libxl__yajl_gen_asciiz(g, val);
}

static yajl_gen_status gen_devices(yajl_gen g, const struct dom_usb *d,
                                   int ctrl)
{
    const libxl_usb_hostdev *dev;
    yajl_gen_status s;
    int i;

    s = yajl_gen_array_open(g);
    for (i = 0; !s && i < d->ndevs; i++) {
        if (d->devs[i].ctrl != ctrl)
            continue;
        dev = dom_usb_host(d, i);
        s = yajl_gen_map_open(g);
        if (!s) s = gen_key_str(g, "busid", d->busids[i]);
        if (!s) s = gen_key(g, "device");
        if (!s) s = libxl_device_usbdev_gen_json(g, &d->devs[i]);
        if (!s) s = gen_key(g, "host");
        if (!s) s = dev ? libxl_usb_hostdev_gen_json(g,
                                                     (libxl_usb_hostdev *)dev)
                        : yajl_gen_null(g);
        if (!s) s = gen_key_str(g, "state", dev_state(d, i));
        if (!s) s = yajl_gen_map_close(g);
    }
    return s ? s : yajl_gen_array_close(g);
}

static yajl_gen_status gen_declared(yajl_gen g, const struct dom_usb *d)
{
    yajl_gen_status s;
    int i;

    s = gen_key(g, "declared_controllers");
    if (!s) s = yajl_gen_array_open(g);
    for (i = 0; !s && i < d->decl.num_declared_usbctrls; i++)
        s = libxl_device_usbctrl_gen_json(g, &d->decl.declared_usbctrls[i]);
    if (!s) s = yajl_gen_array_close(g);
    if (!s) s = gen_key(g, "declared_devices");
    if (!s) s = yajl_gen_array_open(g);
    for (i = 0; !s && i < d->decl.num_declared_usbdevs; i++) {
        s = yajl_gen_map_open(g);
        if (!s) s = gen_key(g, "declaration");
        if (!s) s = libxl_usbdev_decl_gen_json(g,
                                               &d->decl.declared_usbdevs[i]);
        if (!s) s = gen_key_str(g, "state", d->states[i]);
        if (!s) s = gen_key_str(g, "busid", d->found[i]);
        if (!s) s = yajl_gen_map_close(g);
    }
    return s ? s : yajl_gen_array_close(g);
}

static yajl_gen_status gen_dom_usb(yajl_gen g, const struct dom_usb *d)
{
    yajl_gen_status s;
    int i;

    s = yajl_gen_map_open(g);
    if (!s) s = gen_key(g, "domid");
    if (!s) s = yajl_gen_integer(g, d->domid);
    if (!s) s = gen_key_str(g, "name", d->name);
    if (!s) s = gen_key(g, "controllers");
    if (!s) s = yajl_gen_array_open(g);
    for (i = 0; !s && i < d->nctrls; i++) {
        s = yajl_gen_map_open(g);
        if (!s) s = gen_key(g, "controller");
        if (!s) s = libxl_usbctrlinfo_gen_json(g, &d->infos[i]);
        if (!s) s = gen_key(g, "devices");
        if (!s) s = gen_devices(g, d, d->infos[i].devid);
        if (!s) s = yajl_gen_map_close(g);
    }
    if (!s) s = yajl_gen_array_close(g);
    if (!s) s = gen_declared(g, d);
    return s ? s : yajl_gen_map_close(g);
}

static yajl_gen json_open(void)
{
    yajl_gen g = yajl_gen_alloc(NULL);

    if (!g || !yajl_gen_config(g, yajl_gen_beautify, 1) ||
        !yajl_gen_config(g, yajl_gen_indent_string, "    ") ||
        yajl_gen_array_open(g)) {
        fail("cannot make JSON: out of memory");
        if (g)
            yajl_gen_free(g);
        return NULL;
    }
    return g;
}

/* Closes the top-level array and prints it, unless s says it failed. */
static int json_close(yajl_gen g, yajl_gen_status s)
{
    const unsigned char *buf;
    size_t len;

    if (!s) s = yajl_gen_array_close(g);
    if (!s) s = yajl_gen_get_buf(g, &buf, &len);
    if (!s) {
        fwrite(buf, 1, len, stdout);
        if (len && buf[len - 1] != '\n')
            putchar('\n');
    }
    yajl_gen_free(g);
    return s ? fail("cannot make JSON (yajl status %d)", s) : 0;
}

/*----- the commands -----*/

/* The domains of usb-list: those named, or all that have controllers or
 * declare some. */
static int list_domains(char **specs, int n, uint32_t **domids_r,
                        int *num_r)
{
    int i;

    if (!n) {
        *domids_r = libxl_usb_reconcile_domains(ctx, num_r);
        return 0;
    }
    *domids_r = calloc(n, sizeof(**domids_r));
    if (!*domids_r) {
        perror("xlusb");
        return 1;
    }
    *num_r = n;
    for (i = 0; i < n; i++)
        if (find_domain(specs[i], &(*domids_r)[i]))
            return 1;
    return 0;
}

int main_usb_list(int argc, char **argv)
{
    struct dom_usb *doms = NULL;
    uint32_t *domids = NULL;
    yajl_gen g = NULL;
    yajl_gen_status s = yajl_gen_status_ok;
    int i, n = 0, status = 1;

    if (ctx_open() || list_domains(argv, argc, &domids, &n))
        goto out;
    if (json_output && !(g = json_open()))
        goto out;
    doms = calloc(n ? n : 1, sizeof(*doms));
    if (!doms) {
        perror("xlusb");
        exit(1);
    }
    dom_usb_get_all(domids, n, doms);
    for (i = 0; !s && i < n; i++) {
        if (g) {
            s = gen_dom_usb(g, &doms[i]);
        } else {
            if (i)
                putchar('\n');
            print_dom_usb(&doms[i]);
        }
    }
    status = g ? json_close(g, s) : 0;

 out:
    for (i = 0; doms && i < n; i++)
        dom_usb_free(&doms[i]);
    free(doms);
    free(domids);
    return status;
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

/* The assignable devices of h, in columns as wide as their widest value. */
static void print_assignable(const struct hostdevs *h)
{
    const libxl_usb_hostdev *dev;
    char **where, *owner;
    int i, wbusid = 5, wdrivers = 9, wwhere = 6;

    where = calloc(h->num, sizeof(*where));
    if (h->num && !where) {
        perror("xlusb");
        exit(1);
    }
    for (i = 0; i < h->num; i++) {
        dev = &h->dev[i];
        if (dev->hub)
            continue;
        if (hostdev_is_assigned(dev)) {
            owner = domain_label(dev->domid);
            if (asprintf(&where[i], "%s (%d:%d)", owner, dev->ctrl,
                         dev->port) < 0)
                where[i] = NULL;
            free(owner);
        }
        wbusid = max_int(wbusid, strlen(dev->busid));
        wdrivers = max_int(wdrivers, strlen(str_or(dev->drivers, "-")));
        wwhere = max_int(wwhere, strlen(str_or(where[i], "-")));
    }
    printf("%-*s Bus Dev ID        Class %-*s %-*s Product\n", wbusid,
           "Busid", wdrivers, "Driver(s)", wwhere, "Domain");
    for (i = 0; i < h->num; i++) {
        dev = &h->dev[i];
        if (!dev->hub) {
            printf("%-*s %03d %03d %04x:%04x %02x    %-*s %-*s ",
                   wbusid, dev->busid, (int)dev->hostbus,
                   (int)dev->hostaddr, dev->idvendor, dev->idproduct,
                   (int)dev->device_class, wdrivers,
                   str_or(dev->drivers, "-"), wwhere,
                   str_or(where[i], "-"));
            print_shown(str_or(dev->product, ""));
            putchar('\n');
        }
        free(where[i]);
    }
    free(where);
}

static int print_assignable_json(const struct hostdevs *h)
{
    yajl_gen g = json_open();
    yajl_gen_status s = yajl_gen_status_ok;
    int i;

    if (!g)
        return 1;
    for (i = 0; !s && i < h->num; i++)
        if (!h->dev[i].hub)
            s = libxl_usb_hostdev_gen_json(g, &h->dev[i]);
    return json_close(g, s);
}

int main_usb_assignable_list(int argc, char **argv)
{
    struct hostdevs h;
    int status;

    (void)argc;     /* none, checked by main */
    (void)argv;
    if (ctx_open())
        return 1;
    hostdevs_get(&h);
    if (json_output) {
        status = print_assignable_json(&h);
    } else {
        print_assignable(&h);
        status = 0;
    }
    hostdevs_free(&h);
    return status;
}

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
