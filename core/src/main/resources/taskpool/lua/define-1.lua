-- define-1: publish a task definition, replacing the previous one as a whole.
--
-- KEYS[1] taskpool:{T}:def  hash of the definition
-- ARGV    field, value, field, value, ...
--
-- Returns {1}.
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV))
return {1}
