/*
 * master.h - the process manager's internal interfaces (the master folder only).
 *
 * master reads main.cf and master.cf, creates every listening socket itself, keeps
 * maxproc workers per service running (they share the service's listen sockets),
 * restarts workers that exit, throttles a service whose workers die at start, and
 * reloads on SIGHUP. See docs/master.md.
 */
#ifndef FAXPOST_MASTER_H
#define FAXPOST_MASTER_H

#include <sys/types.h>

#include "mail/daemon.h"
#include "mail/mastercf.h"

#ifndef FAXPOST_VERSION
#define FAXPOST_VERSION "0.1"
#endif

/* A worker dying abnormally this soon after its start, or before it said 'R', is a
 * bad start: the service is throttled for service_throttle_time. */
#define MASTER_BAD_START_SECS 3
/* A clean exit sooner than this after the start is replaced only after this long. */
#define MASTER_MIN_LIFE_MS 1000
/* How long stop waits for workers after SIGTERM before SIGKILL. */
#define MASTER_STOP_WAIT_MS 5000
/* Services whose maxproc is 0 (unlimited) are given this many processes. */
#define MASTER_UNLIMITED_PRESPAWN 1

typedef struct master_service {
	mastercf_entry ent;	/* owned copy of the master.cf entry */
	char *path;		/* daemon_directory/command, or the command if absolute */
	char *sock_path;	/* unix/fifo: the socket's path; NULL for inet */
	int nlisten;
	int listen_fds[DAEMON_MAX_LISTEN];
	int nproc;		/* workers alive, not retiring */
	int target;		/* workers wanted */
	long long throttled_until;	/* monotonic ms; 0 = not throttled */
	int marked;		/* reload: not (yet) seen in the new master.cf */
	struct master_service *next;
} master_service;

typedef struct master_proc {
	pid_t pid;
	int status_fd;		/* read end of the worker's status pipe; -1 once closed */
	int ready;		/* 'R' received */
	int retiring;		/* told to go (reload, removal, stop); no restart */
	long long started;	/* monotonic ms */
	master_service *svc;	/* NULL when its service was removed */
	struct master_proc *next;
} master_proc;

typedef struct master_state {
	const char *config_dir;
	int foreground;
	int verbose;
	master_service *services;
	master_proc *procs;
	uid_t owner_uid;	/* mail_owner, when master runs as root */
	gid_t owner_gid;
	int have_owner;
} master_state;

extern master_state master;

/* master_conf.c */
int master_conf_load(char *err, size_t errlen);	/* main.cf + checks */
int master_services_load(master_service **out, char *err, size_t errlen);
void master_service_free(master_service *svc);
int master_start_services(void);		/* listeners for every service */
void master_reload(void);

/* master_listen.c */
int master_listen_open(master_service *svc, char *err, size_t errlen);
void master_listen_close(master_service *svc, int unlink_socket);
int master_same_address(const master_service *a, const master_service *b);

/* master_spawn.c */
void master_spawn_all(void);
void master_reap(void);
void master_status_input(master_proc *p);
void master_retire_service(master_service *svc, int sig);
void master_stop_all(void);
long long master_next_timer(void);
long long master_now(void);			/* monotonic milliseconds */
int master_proc_count(void);

/* master_sig.c */
int master_sig_init(void);			/* returns the self-pipe's read end */
int master_sig_take(int *hup, int *term, int *chld);	/* drain; 1 when something */
void master_sig_child_reset(void);

/* master_files.c */
int master_lock(char *err, size_t errlen);	/* data_directory/master.pid */
void master_write_pid(void);
void master_unlink_pid(void);
int master_make_dirs(char *err, size_t errlen);
int master_owner_lookup(char *err, size_t errlen);

#endif
