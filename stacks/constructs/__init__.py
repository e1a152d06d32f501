"""One construct per logical unit: network, redis_queue, secrets, api_apprunner, api_ecs, workers, monitoring."""
