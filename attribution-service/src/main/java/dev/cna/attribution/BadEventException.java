package dev.cna.attribution;

/** An event the service cannot use; it goes to the dead-letter topic with its class and detail. */
public class BadEventException extends Exception {
    private final ErrorClass errorClass;

    public BadEventException(ErrorClass errorClass, String detail) {
        super(detail, null, false, false);
        this.errorClass = errorClass;
    }

    public ErrorClass errorClass() {
        return errorClass;
    }
}
