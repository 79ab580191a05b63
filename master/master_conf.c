/*
 * master_conf.c - main.cf and master.cf into master's service table; reload.
 *
 * Contract: master_services_load() turns every master.cf entry into a service (its
 * program path under daemon_directory, its socket path for local services, the
 * number of workers to keep). master_reload() (SIGHUP) re-reads both files; when
 * either is bad it logs why and keeps the running configuration. A service still
 * present keeps its listening sockets when its address did not change (no gap for
 * clients); its workers are told to go (status pipe closed, SIGHUP) and new ones are
 * started with the new settings. Removed services are stopped (SIGTERM), their
 * sockets closed; new ones are started. A reload also lifts every throttle.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/config.h"
#include "master.h"
#include "util/buf.h"
#include "util/msg.h"

int master_conf_load(char *err, size_t errlen)
{
	if (config_load(master.config_dir, err, errlen) < 0)
		return -1;
	return master_owner_lookup(err, errlen);
}

static char **master_strv_dup(char **v, int n)
{
	char **out = xcalloc((size_t)n + 1, sizeof(*out));

	for (int i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static void master_strv_free(char **v, int n)
{
	if (!v)
		return;
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void master_entry_copy(mastercf_entry *dst, const mastercf_entry *src)
{
	*dst = *src;
	dst->service = xstrdup(src->service);
	dst->type = xstrdup(src->type);
	dst->argv = master_strv_dup(src->argv, src->argc);
	dst->opts = master_strv_dup(src->opts, src->nopt);
}

void master_service_free(master_service *svc)
{
	if (!svc)
		return;
	free(svc->ent.service);
	free(svc->ent.type);
	master_strv_free(svc->ent.argv, svc->ent.argc);
	master_strv_free(svc->ent.opts, svc->ent.nopt);
	free(svc->path);
	free(svc->sock_path);
	free(svc);
}

static char *master_join(const char *a, const char *b, const char *c)
{
	buf out;

	buf_init(&out, 4096);
	if (buf_printf(&out, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "") < 0)
		msg_fatal("path too long: %s/%s", a, b);
	return out.data;
}

static int master_service_init(master_service *svc, const char *fname, char *err,
			       size_t errlen)
{
	const mastercf_entry *e = &svc->ent;
	const char *cmd = e->argv[0];

	if (strcmp(e->type, "inet") != 0) {
		if (strchr(e->service, '/') || strcmp(e->service, "..") == 0 ||
		    strcmp(e->service, ".") == 0) {
			snprintf(err, errlen, "%s:%d: bad service name '%s' (a name, not a path)",
				 fname, e->line, e->service);
			return -1;
		}
		svc->sock_path = master_join(conf_str("queue_directory"),
					     e->private_ ? "private" : "public", e->service);
	}
	svc->path = cmd[0] == '/' ? xstrdup(cmd) : master_join(conf_str("daemon_directory"),
							       cmd, NULL);
	svc->target = e->maxproc > 0 ? e->maxproc : MASTER_UNLIMITED_PRESPAWN;
	if (access(svc->path, X_OK) < 0)
		msg_warn("%s:%d: service %s/%s: %s: %s", fname, e->line, e->service, e->type,
			 svc->path, strerror(errno));
	return 0;
}

int master_services_load(master_service **out, char *err, size_t errlen)
{
	char *path = master_join(master.config_dir, "master.cf", NULL);
	mastercf_entry *ents = NULL;
	size_t n = 0;
	master_service *head = NULL, **tail = &head;
	int rc = 0;

	*out = NULL;
	if (mastercf_load(path, (int)conf_int("default_process_limit"), &ents, &n, err,
			  errlen) < 0) {
		free(path);
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		master_service *svc = xcalloc(1, sizeof(*svc));

		master_entry_copy(&svc->ent, &ents[i]);
		*tail = svc;
		tail = &svc->next;
		rc = master_service_init(svc, path, err, errlen);
	}
	mastercf_free(ents, n);
	free(path);
	if (rc < 0) {
		while (head) {
			master_service *next = head->next;

			master_service_free(head);
			head = next;
		}
		return -1;
	}
	*out = head;
	return 0;
}

int master_start_services(void)
{
	char err[512];

	for (master_service *s = master.services; s; s = s->next)
		if (master_listen_open(s, err, sizeof(err)) < 0)
			msg_fatal("service %s/%s: %s", s->ent.service, s->ent.type, err);
	return 0;
}

static master_service *master_find(master_service *list, const master_service *like)
{
	for (; list; list = list->next)
		if (strcmp(list->ent.service, like->ent.service) == 0 &&
		    strcmp(list->ent.type, like->ent.type) == 0)
			return list;
	return NULL;
}

/* Take over the old service's sockets, or open new ones when the address moved. */
static void master_reload_listeners(master_service *old, master_service *svc)
{
	char err[512];

	if (old && master_same_address(old, svc)) {
		memcpy(svc->listen_fds, old->listen_fds, sizeof(svc->listen_fds));
		svc->nlisten = old->nlisten;
		old->nlisten = 0;
		return;
	}
	if (old)
		master_listen_close(old, 1);
	if (master_listen_open(svc, err, sizeof(err)) < 0) {
		msg_error("service %s/%s: %s; not started", svc->ent.service, svc->ent.type, err);
		svc->target = 0;
	}
}

/* Try main.cf in a child first: a failed config_load() would leave master's own
 * configuration empty, and master must keep running on the old one. */
static int master_conf_trial(char *err, size_t errlen)
{
	int pfd[2], status;
	pid_t pid;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		if (config_load(master.config_dir, err, errlen) == 0)
			_exit(0);
		if (write(pfd[1], err, strlen(err)) < 0)
			_exit(2);
		_exit(1);
	}
	close(pfd[1]);
	n = read(pfd[0], err, errlen - 1);
	err[n > 0 ? n : 0] = 0;
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!err[0])
		snprintf(err, errlen, "main.cf does not load");
	return -1;
}

void master_reload(void)
{
	char err[512];
	master_service *fresh, *old;

	msg_info("reload -- version %s, configuration %s", FAXPOST_VERSION, master.config_dir);
	if (master_conf_trial(err, sizeof(err)) < 0 ||
	    master_conf_load(err, sizeof(err)) < 0 ||
	    master_make_dirs(err, sizeof(err)) < 0 ||
	    master_services_load(&fresh, err, sizeof(err)) < 0) {
		msg_error("reload: %s; keeping the running configuration", err);
		return;
	}
	for (master_service *s = master.services; s; s = s->next)
		s->marked = 1;
	for (master_service *s = fresh; s; s = s->next) {
		old = master_find(master.services, s);
		if (old) {
			old->marked = 0;
			master_retire_service(old, SIGHUP);
		}
		master_reload_listeners(old, s);
	}
	for (master_service *s = master.services; s; s = s->next)
		if (s->marked) {
			master_retire_service(s, SIGTERM);
			master_listen_close(s, 1);
		}
	while (master.services) {
		old = master.services->next;
		master_listen_close(master.services, 0);
		master_service_free(master.services);
		master.services = old;
	}
	master.services = fresh;
	master_spawn_all();
}
