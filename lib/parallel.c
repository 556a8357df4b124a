/* The parallel-for of lib/parallel.h on plain pthreads: workers take the
 * next index from one atomic counter until it passes N, so a slow item
 * never holds back the others, and the calling thread is one of the
 * workers, so no thread sits idle waiting. */
#include "lib/parallel.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

struct parallel_job {
	size_t n;
	int (*fn)(size_t i, void *arg);
	void *arg;
	atomic_size_t next;
	atomic_size_t failed;
};

unsigned parallel_default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > 1024 ? 1024 : (unsigned)n;
}

static void *work(void *opaque)
{
	struct parallel_job *job = opaque;
	size_t i;

	while ((i = atomic_fetch_add(&job->next, 1)) < job->n)
		if (job->fn(i, job->arg) != 0)
			atomic_fetch_add(&job->failed, 1);
	return NULL;
}

size_t parallel_for(size_t n, unsigned max_workers, int (*fn)(size_t i, void *arg), void *arg)
{
	struct parallel_job job = { .n = n, .fn = fn, .arg = arg };
	pthread_t *threads = NULL;
	size_t helpers = 0, started = 0;
	sigset_t all, old;

	if (n == 0)
		return 0;
	if (max_workers == 0)
		max_workers = parallel_default_workers();
	helpers = max_workers - 1;
	if (helpers > n - 1)
		helpers = n - 1;
	if (helpers > 0)
		threads = calloc(helpers, sizeof(*threads));
	if (threads) {
		/* Helpers block every signal, so signals meant for the process
		 * still go to the threads that expect them. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		for (; started < helpers; started++)
			if (pthread_create(&threads[started], NULL, work, &job) != 0)
				break; /* the threads already started and this one share the rest */
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	work(&job);
	for (size_t t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	free(threads);
	return atomic_load(&job.failed);
}
