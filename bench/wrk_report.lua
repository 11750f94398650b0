-- Shared by every scenario: one JSON line with throughput, latency percentiles and errors; a script
-- that counts its responses (wrk_flash.lua) defines status_counts(), a JSON object added as "statuses".
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "errors": %d, "non_2xx": %d, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f%s}\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3,
    status_counts and (', "statuses": ' .. status_counts()) or ""))
end
