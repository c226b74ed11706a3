-- The console's queries are short; PostgreSQL's JIT compiles any plan whose estimated cost passes
-- jit_above_cost, and the rollup views' live halves are estimated high (the planner cannot see how few
-- rows follow the watermark): measured 7.8 s of JIT for a 30 ms query. Off for this database's new
-- sessions. A server where the migrating role does not own the database keeps its setting (a notice says so).

DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'jit stays as configured: % does not own database %', current_user, current_database();
END $$;
