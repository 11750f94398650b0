FROM python:latest AS build
ADD https://example.com/x.tar.gz /x
RUN pip install requests
FROM build
USER root
