"""The hub's operator side (issue 7): the composition of store, pipeline, recorder, notifications, metrics and
the REST API around the session server (`server.start_operator`), the API's view of the running hub
(`facade.LiveFacade`) and what the hub hears, recorded (`recorder.Recorder`)."""
