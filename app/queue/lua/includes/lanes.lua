-- join_ring(ring, tenant): a tenant with jobs newly waiting at a ring's priority takes its
-- turn after those already waiting: it joins with the least-served tenant's score, so it
-- gets no credit for the time it had nothing queued (and owes nothing for it either).
local function join_ring(ring, tenant)
  if redis.call('ZSCORE', ring, tenant) then return end
  local least = redis.call('ZRANGE', ring, 0, 0, 'WITHSCORES')
  redis.call('ZADD', ring, least[2] or 0, tenant)
end
-- push_job(queue, lane, ring, tenant, message, front, wake): a message onto its lane, at the
-- consuming end when `front` (a retry, a recovered job), else at the back. A lane other than
-- the queue list joins its priority's ring, and when the queue list is empty the wake token
-- goes there (unless `wake` is '': the caller wakes workers itself): a worker blocks on the
-- queue list alone (BLMOVE), and wakes for any lane.
local function push_job(queue, lane, ring, tenant, message, front, wake)
  if lane ~= queue then
    if wake ~= '' and redis.call('LLEN', queue) == 0 then redis.call('LPUSH', queue, wake) end
    join_ring(ring, tenant)
  end
  if front then redis.call('RPUSH', lane, message) else redis.call('LPUSH', lane, message) end
end
-- at_limit(queue, lane, wake, limit): the lane holds `limit` jobs or more. Wake tokens in the queue
-- list are no jobs: counted out (near the consuming end, where they are pushed), and only when the
-- list's length alone reaches the limit, so the common case costs one LLEN.
local function at_limit(queue, lane, wake, limit)
  local depth = redis.call('LLEN', lane)
  if depth < limit or lane ~= queue then return depth >= limit end
  return depth - #redis.call('LPOS', queue, wake, 'RANK', -1, 'COUNT', 0, 'MAXLEN', 1000) >= limit
end
-- wake_workers(queue, wake, n): after a script put n messages in other lanes than the queue
-- list, which was empty before it: a token for each (up to 100), so as many blocked workers wake.
local function wake_workers(queue, wake, n)
  for _ = 1, math.min(n, 100) do redis.call('LPUSH', queue, wake) end
end
