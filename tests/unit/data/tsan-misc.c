#include <pthread.h>
#include <stdlib.h>
#include <signal.h>
#include <unistd.h>
#include <string.h>
static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static int *heap;
static void *t_heap(void *x) { pthread_mutex_lock(&a); heap[1] = 2; pthread_mutex_unlock(&a); return 0; }
static void *t_leak(void *x) { return 0; }
static void lock_ab(void) { pthread_mutex_lock(&a); pthread_mutex_lock(&b); pthread_mutex_unlock(&b); pthread_mutex_unlock(&a); }
static void lock_ba(void) { pthread_mutex_lock(&b); pthread_mutex_lock(&a); pthread_mutex_unlock(&a); pthread_mutex_unlock(&b); }
static void handler(int s) { void *p = malloc(10); free(p); }
int main(int argc, char **argv)
{
	pthread_t t;
	heap = malloc(16);
	pthread_create(&t, 0, t_heap, 0);
	heap[1] = 3;
	pthread_join(t, 0);
	lock_ab(); lock_ba();
	pthread_create(&t, 0, t_leak, 0);
	sleep(1);
	{ pthread_mutex_t m; pthread_mutex_init(&m, 0); pthread_mutex_lock(&m); pthread_mutex_destroy(&m); }
	signal(SIGUSR1, handler); raise(SIGUSR1);
	return 0;
}
