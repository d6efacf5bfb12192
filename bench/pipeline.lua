-- wrk script: HTTP/1.1 pipelining. Each connection writes DEPTH requests back
-- to back and writes again only when all DEPTH responses are in.
--
--   wrk -t1 -c100 -d10s -s bench/pipeline.lua http://127.0.0.1:PORT/PATH -- [DEPTH] [METHOD] [BODY]
--
-- DEPTH defaults to 24 (the classic million-requests test); the path comes from
-- the URL; METHOD and BODY (Content-Length is added) serve POST cases. Extra
-- headers: wrk's own -H. DEPTH 1 gives plain keep-alive with a method/body.
init = function(args)
  local depth = tonumber(args[1]) or 24
  if args[2] then wrk.method = args[2] end
  if args[3] then wrk.body = args[3] end
  local r = {}
  for i = 1, depth do r[i] = wrk.format() end
  local batch = table.concat(r)
  -- No global request(): with one, wrk calls into Lua for every batch (against
  -- the ceiling server that measured 0-7% fewer requests/s, in noise). wrk.init
  -- builds its static request with wrk.format() right after init() returns,
  -- so returning the batch from it keeps the request static; wrk still parses
  -- it and counts DEPTH requests, so it expects DEPTH responses per write.
  wrk.format = function() return batch end
end
