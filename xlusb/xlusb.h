/*
 * xlusb.h - what the parts of the xlusb command share: the command
 * table, argument parsing, messages, and the libxl context.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef XLUSB_H
#define XLUSB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "libxl_pvusb.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The library context, opened by ctx_open (NULL before). */
extern libxl_ctx *ctx;
/* -j/--json was given (to a command that takes it). */
extern bool json_output;
/* --live was given: the operation is for this boot only. */
extern bool live_only;
/* -n/--dry-run was given. */
extern bool dry_run;

/*----- commands (main.c) -----*/

/*
 * A command.  main parses its options and checks the number of its
 * arguments, then calls fn with the arguments only (after the options);
 * fn returns the exit status.
 */
#define OPT_JSON    (1u << 0)           /* -j/--json */
#define OPT_LIVE    (1u << 1)           /* --live */
#define OPT_DRY_RUN (1u << 2)           /* -n/--dry-run */

struct cmd_spec {
    const char *name;
    int (*fn)(int argc, char **argv);
    unsigned int opts;                  /* OPT_*: the options it takes */
    int min_args, max_args;             /* max_args -1: no limit */
    const char *args;                   /* the arguments, for usage */
    const char *summary;                /* one line, for `xlusb help` */
    const char *help;                   /* the rest of `help <command>` */
};

/* Prints "xlusb: <message>" and the running command's usage on stderr;
 * returns 1 (the exit status). */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "xlusb: <message>" on stderr; returns 1 (the exit status). */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Shows the library's info lines too (what an operation did). */
void log_actions(void);

/* Opens ctx on the xenstore daemon; 0, or 1 with a message. */
int ctx_open(void);
/* Another context on the same logger, for a thread of its own; NULL if
 * it cannot be made. */
libxl_ctx *ctx_another(void);

int main_usbctrl_attach(int argc, char **argv);
int main_usbctrl_detach(int argc, char **argv);
int main_usbdev_attach(int argc, char **argv);
int main_usbdev_detach(int argc, char **argv);
int main_usb_rebind(int argc, char **argv);
int main_usb_list(int argc, char **argv);
int main_usb_assignable_list(int argc, char **argv);
int main_usb_reconcile(int argc, char **argv);
int main_usb_daemon_status(int argc, char **argv);

/*----- arguments (parse.c) -----*/

/*
 * Parses a number: decimal ("008" is 8), or hex after "0x"; no sign, no
 * spaces, nothing after it.  Returns 0, or -1 if s is not a number in
 * [min, max].
 */
int parse_number(const char *s, unsigned long min, unsigned long max,
                 unsigned long *val_r);
/*
 * If s is not NULL, parses it (argument `what`) as a number in [min, max]
 * into *val_r; a usage error (1 returned) if it is not one.
 */
int int_arg(const char *what, const char *s, int min, int max, int *val_r);
/* A USB vendor or product id as lsusb prints it: 1 to 4 hex digits,
 * optionally after "0x".  0 or -1. */
int parse_usb_id(const char *s, uint16_t *val_r);

/*
 * Sorts key=value arguments argv[0..argc) by key: vals[i] is the value of
 * keys[i] (NULL if not given).  Unknown keys, repeated keys, empty values
 * and arguments without '=' are usage errors (1 returned).
 */
int parse_keywords(int argc, char **argv, const char *const *keys,
                   int nkeys, const char **vals);

/*
 * A domain given by name or number.  0, or 1 after saying that there is
 * no such domain.
 */
int find_domain(const char *spec, uint32_t *domid_r);

/*
 * Opens ctx, then finds domain spec: 0, with its name (or number) in
 * *name_r (malloc'd); or 1 after saying what is wrong.
 */
int open_domain(const char *spec, uint32_t *domid_r, char **name_r);

/* The domain's name, or its number if it has none; malloc'd.  _in: as
 * context c reads it. */
char *domain_label(uint32_t domid);
char *domain_label_in(libxl_ctx *c, uint32_t domid);

/*----- host devices (host.c) -----*/

/* The host's USB devices, as libxl_usb_hostdev_list gives them. */
struct hostdevs {
    libxl_usb_hostdev *dev;
    int num;
};

/* Fills h (empty if the library could not list them: it said why). */
void hostdevs_get(struct hostdevs *h);
void hostdevs_free(struct hostdevs *h);
/* Whether dev is given to a domain. */
bool hostdev_is_assigned(const libxl_usb_hostdev *dev);
/*
 * Prints, on stderr, what to do about busid being given to a domain
 * already ("device 1-2 is already assigned to domain web01 (controller 0
 * port 1)"); returns 1.
 */
int hostdev_owner_error(const libxl_usb_hostdev *dev);

#endif /* XLUSB_H */

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
