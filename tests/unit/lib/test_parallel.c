/* Unit tests for lib/parallel: every index runs exactly once, work spreads
 * over several threads (the caller's among them), one worker keeps it all
 * on the calling thread, nothing runs for no items, and the failures are
 * counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/parallel.h"

#define ITEMS 1000

struct record {
	atomic_int calls[ITEMS];
	pthread_t who[ITEMS];
	bool slow; /* each call sleeps a little, so helpers get work */
};

static int note(size_t i, void *arg)
{
	struct record *r = arg;

	atomic_fetch_add(&r->calls[i], 1);
	r->who[i] = pthread_self();
	if (r->slow) {
		struct timespec ts = { 0, 200 * 1000 };

		nanosleep(&ts, NULL);
	}
	return 0;
}

static size_t distinct_threads(const struct record *r, size_t n, bool *caller_seen)
{
	pthread_t seen[64];
	size_t count = 0;

	*caller_seen = false;
	for (size_t i = 0; i < n; i++) {
		bool known = false;

		if (pthread_equal(r->who[i], pthread_self()))
			*caller_seen = true;
		for (size_t k = 0; k < count && !known; k++)
			known = pthread_equal(seen[k], r->who[i]);
		if (!known && count < 64)
			seen[count++] = r->who[i];
	}
	return count;
}

static void test_each_index_once(void **state)
{
	struct record *r = calloc(1, sizeof(*r));
	bool caller;

	(void)state;
	assert_non_null(r);
	r->slow = true;
	assert_int_equal(parallel_for(ITEMS, 4, note, r), 0);
	for (size_t i = 0; i < ITEMS; i++)
		assert_int_equal(atomic_load(&r->calls[i]), 1);
	/* With 1000 sleeping items, four workers all get some. */
	assert_true(distinct_threads(r, ITEMS, &caller) > 1);
	assert_true(distinct_threads(r, ITEMS, &caller) <= 4);
	assert_true(caller);
	free(r);
}

static void test_default_workers(void **state)
{
	struct record *r = calloc(1, sizeof(*r));

	(void)state;
	assert_non_null(r);
	assert_true(parallel_default_workers() >= 1);
	assert_int_equal(parallel_for(ITEMS, 0, note, r), 0);
	for (size_t i = 0; i < ITEMS; i++)
		assert_int_equal(atomic_load(&r->calls[i]), 1);
	free(r);
}

static void test_one_worker_is_the_caller(void **state)
{
	struct record *r = calloc(1, sizeof(*r));
	bool caller;

	(void)state;
	assert_non_null(r);
	r->slow = true;
	assert_int_equal(parallel_for(50, 1, note, r), 0);
	for (size_t i = 0; i < 50; i++)
		assert_int_equal(atomic_load(&r->calls[i]), 1);
	for (size_t i = 50; i < ITEMS; i++)
		assert_int_equal(atomic_load(&r->calls[i]), 0);
	assert_int_equal(distinct_threads(r, 50, &caller), 1);
	assert_true(caller);
	free(r);
}

static int never(size_t i, void *arg)
{
	(void)i;
	(void)arg;
	fail_msg("called for no items");
	return 0;
}

static void test_no_items(void **state)
{
	(void)state;
	assert_int_equal(parallel_for(0, 8, never, NULL), 0);
	assert_int_equal(parallel_for(0, 0, never, NULL), 0);
}

static int odd_fails(size_t i, void *arg)
{
	atomic_size_t *calls = arg;

	atomic_fetch_add(calls, 1);
	return i % 2 ? -1 : 0;
}

static void test_failures_counted(void **state)
{
	atomic_size_t calls = 0;

	(void)state;
	/* A failure does not stop the others: every item still runs. */
	assert_int_equal(parallel_for(101, 8, odd_fails, &calls), 50);
	assert_int_equal(atomic_load(&calls), 101);
	atomic_store(&calls, 0);
	assert_int_equal(parallel_for(7, 1, odd_fails, &calls), 3);
	assert_int_equal(atomic_load(&calls), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_index_once),
		cmocka_unit_test(test_default_workers),
		cmocka_unit_test(test_one_worker_is_the_caller),
		cmocka_unit_test(test_no_items),
		cmocka_unit_test(test_failures_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
