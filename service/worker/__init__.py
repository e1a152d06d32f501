"""Workers: a supervisor (`pool`) with SOLVER_WORKERS slot processes (`slot`), each running one solver child
process (`child`) at a time; plus the webhook dispatcher, the backlog/job metrics and ECS task protection."""
