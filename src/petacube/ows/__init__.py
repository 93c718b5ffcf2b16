"""OGC protocols: `dispatch.handle(OwsRequest, cube) -> OwsResponse` routes WCS, WCPS
(ProcessCoverages) and WMS requests; `crs_resolver` answers /def/crs URLs;
`exceptions` builds OWS 2.0 ExceptionReports. No HTTP here: see `petacube.server`."""
