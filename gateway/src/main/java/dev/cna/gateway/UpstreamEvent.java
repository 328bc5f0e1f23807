package dev.cna.gateway;

/** One server-sent event as steering-service sent it: its name and its data (JSON text). */
public record UpstreamEvent(String name, String data) {}
